"""How the launcher fetches and runs Zipkin: Maven Central's exec jar, on the stack's address and port."""
import pytest
from pydantic import ValidationError

from tools.stack import artifacts, zipkin
from tools.stack.config import ZIPKIN_VERSION, StackSettings


def test_the_exec_jar_is_fetched_by_its_classifier_from_maven_centrals_layout():
    assert artifacts.maven_url("io.zipkin", "zipkin-server", ZIPKIN_VERSION, "jar", "exec") == (
        f"https://repo1.maven.org/maven2/io/zipkin/zipkin-server/{ZIPKIN_VERSION}/"
        f"zipkin-server-{ZIPKIN_VERSION}-exec.jar")
    assert artifacts.maven_url("io.zipkin", "zipkin-server", "1", "jar").endswith("/1/zipkin-server-1.jar")


def test_zipkin_listens_on_the_stacks_address_and_port_and_keeps_spans_in_memory():
    settings = StackSettings.model_construct(bind_host="127.0.0.1", zipkin_port=19411)
    assert zipkin.server_options(settings) == ["--armeria.ports[0].ip=127.0.0.1", "--armeria.ports[0].port=19411",
                                               "--armeria.ports[0].protocols[0]=http"]
    assert zipkin.server_environment(settings)["STORAGE_TYPE"] == "mem"
    assert zipkin.spans_url(settings) == "http://127.0.0.1:19411/api/v2/spans"


def test_zipkin_may_not_share_a_port_with_another_part_of_the_stack():
    with pytest.raises(ValidationError, match="9000"):
        StackSettings(zipkin_port=9000)  # Keycloak's management port


def test_with_trace_export_off_the_services_are_given_no_collector(monkeypatch):
    from tools.stack.services import environment

    monkeypatch.setenv("FULFIL_STACK_TRACE_EXPORT", "false")
    assert environment(StackSettings(), "order")["FULFIL_ORDER_TRACING_ENDPOINT"] == ""
    monkeypatch.delenv("FULFIL_STACK_TRACE_EXPORT")
    assert environment(StackSettings(), "order")["FULFIL_ORDER_TRACING_ENDPOINT"].endswith("/api/v2/spans")
