"""The monitor links an instance to its order's trace in Zipkin, from the `traceparent` process variable."""
import json
from types import SimpleNamespace

from services.monitor.views import trace_fields, trace_id

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INSTANCE = 2251799813685249


def variable(value, scope_key=INSTANCE, name="traceparent"):
    # As the projection keeps it: the engine's JSON of the value.
    return SimpleNamespace(name=name, value=json.dumps(value), scope_key=scope_key)


def test_the_trace_id_is_the_second_field_of_the_instances_traceparent():
    assert trace_id([variable("orderId-like"), variable(f"00-{TRACE}-00f067aa0ba902b7-01")], INSTANCE) == TRACE


def test_the_instances_own_traceparent_wins_over_one_in_an_inner_scope():
    inner = variable(f"00-{'1' * 32}-00f067aa0ba902b7-01", scope_key=INSTANCE + 7)
    assert trace_id([inner, variable(f"00-{TRACE}-00f067aa0ba902b7-01")], INSTANCE) == TRACE
    assert trace_id([inner], INSTANCE) == "1" * 32


def test_no_trace_without_a_valid_traceparent():
    assert trace_id([], INSTANCE) is None
    assert trace_id([variable(f"00-{TRACE}-00f067aa0ba902b7-01", name="orderId")], INSTANCE) is None
    span = "00f067aa0ba902b7"
    for bad in ("not a traceparent", f"00-{'0' * 32}-{span}-01", 42, f"00-{TRACE.upper()}-{span}-01"):
        assert trace_id([variable(bad)], INSTANCE) is None


def test_the_link_points_at_zipkins_trace_page_and_is_left_out_without_zipkin():
    found = [variable(f"00-{TRACE}-00f067aa0ba902b7-01")]
    assert trace_fields(found, INSTANCE, "http://127.0.0.1:9411") == {
        "trace_id": TRACE, "trace_url": f"http://127.0.0.1:9411/zipkin/traces/{TRACE}"}
    assert trace_fields(found, INSTANCE, "") == {"trace_id": TRACE, "trace_url": None}
