"""Pinned versions, ports and the one git-ignored folder that holds all stack state."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.registry import ANALYTICS, DELIVERY, FACTORY, MONITOR, ORDER, SERVICES, WAREHOUSE
from shared.runtime.settings import local_database_url
from tools.stack import secrets

REPO_ROOT = Path(__file__).resolve().parents[2]

# Camunda stopped publishing its distribution to Maven Central after 8.6.0; this is the newest
# orchestration-cluster tarball a Maven Central mirror serves (see docs/adr/0002-camunda-distribution.md).
CAMUNDA_VERSION = "8.6.0"
KAFKA_VERSION = "4.1.1"
# The OpenID Connect provider (tools/stack/keycloak.py) and the realm of the suite it serves.
KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_REALM = "fulfilment"
# The trace collector and UI (tools/stack/zipkin.py): the newest zipkin-server exec jar on Maven Central.
ZIPKIN_VERSION = "3.6.1"

# Replica n of a service listens this many ports times (n - 1) above the service's own port: with the
# services on 8001-8006, replicas 2 and 3 take 8011-8016 and 8021-8026, clear of each other's ranges.
REPLICA_PORT_STEP = 10


class StackSettings(BaseSettings):
    """Where the stack lives and listens; override with FULFIL_STACK_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="FULFIL_STACK_")

    state_dir: Path = REPO_ROOT / ".stack"
    # The one address every component of the local stack listens on: loopback, so nothing of it (Camunda's
    # unauthenticated gRPC and REST APIs and movable clock, Kafka, PostgreSQL, Keycloak, the services) answers
    # another machine. Set FULFIL_STACK_BIND_HOST only on a machine nobody else can reach.
    bind_host: str = "127.0.0.1"
    java_heap: str = "1g"
    keycloak_heap: str = "512m"

    zeebe_grpc_port: int = 26500
    camunda_http_port: int = 8080
    camunda_management_port: int = 9600
    zeebe_command_port: int = 26501
    zeebe_internal_port: int = 26502
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    postgres_port: int = 5432
    # Keycloak's own defaults are 8080 (Camunda's here) and 9000 for its management interface (health).
    keycloak_port: int = 8180
    keycloak_management_port: int = 9000
    # Prometheus' own default (tools/stack/prometheus.py): its UI, API and the alerts.
    prometheus_port: int = 9090
    # Zipkin's own default: its API, its UI (/zipkin/) and the span collector (/api/v2/spans) on one port.
    zipkin_port: int = 9411
    # Whether the services export their spans to Zipkin (FULFIL_STACK_TRACE_EXPORT=false: they still make them, so
    # an order still has a trace id, but send none; `make bench` with it on and off gives what export costs).
    trace_export: bool = True

    order_port: int = ORDER.port
    warehouse_port: int = WAREHOUSE.port
    factory_port: int = FACTORY.port
    delivery_port: int = DELIVERY.port
    analytics_port: int = ANALYTICS.port
    monitor_port: int = MONITOR.port

    # Processes per service: each its own pid file, log and HTTP port (see `replica_port`).
    replicas: int = Field(default=1, ge=1, le=9)

    @model_validator(mode="after")
    def _ports_apart(self) -> StackSettings:
        ports = [self.zeebe_grpc_port, self.camunda_http_port, self.camunda_management_port,
                 self.zeebe_command_port, self.zeebe_internal_port, self.kafka_port, self.kafka_controller_port,
                 self.postgres_port, self.keycloak_port, self.keycloak_management_port, self.zipkin_port,
                 self.prometheus_port,
                 *(self.replica_port(s, n) for s in SERVICES for n in range(1, self.replicas + 1))]
        taken = sorted({p for p in ports if ports.count(p) > 1})
        if taken:
            raise ValueError(f"two parts of the stack would listen on port(s) {taken}: "
                             f"set the FULFIL_STACK_*_PORT variables (or FULFIL_STACK_REPLICAS) apart")
        return self

    @property
    def downloads(self) -> Path:
        return self.state_dir / "downloads"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids(self) -> Path:
        return self.state_dir / "pids"

    def service_port(self, service: str) -> int:
        """The port of the service's first replica."""
        return getattr(self, f"{service}_port")

    def replica_port(self, service: str, replica: int) -> int:
        return self.service_port(service) + REPLICA_PORT_STEP * (replica - 1)

    @property
    def kafka_bootstrap(self) -> str:
        return f"localhost:{self.kafka_port}"

    @property
    def zeebe_address(self) -> str:
        return f"localhost:{self.zeebe_grpc_port}"

    @property
    def auth_issuer(self) -> str:
        """The issuer of the suite's access tokens: its realm on the local Keycloak."""
        return f"http://127.0.0.1:{self.keycloak_port}/realms/{KEYCLOAK_REALM}"

    @property
    def zipkin_url(self) -> str:
        """Zipkin's base address: its UI is /zipkin/, a trace /zipkin/traces/<trace id>."""
        return f"http://127.0.0.1:{self.zipkin_port}"

    @property
    def postgres_secrets(self) -> Path:
        """PostgreSQL's passwords by role, generated at the first start (tools/stack/postgres.py)."""
        return self.state_dir / "postgres" / "secrets.json"

    def postgres_password(self, role: str) -> str:
        return secrets.stored(self.postgres_secrets, role, f"PostgreSQL role {role}")

    def database_url(self, service: str) -> str:
        """A service's database, as its own role (which may connect to no other)."""
        role = SERVICES[service].database
        return local_database_url(role, self.postgres_port, self.postgres_password(role))

    def superuser_database_url(self, database: str = "postgres") -> str:
        """For tooling that creates and drops databases (tests, benchmarks), never for a service."""
        return local_database_url(database, self.postgres_port, self.postgres_password("postgres"), role="postgres")
