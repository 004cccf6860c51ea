"""Start the services as separate processes, each pointed at its own database; N replicas of each on request."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services.delivery.settings import DeliverySettings
from shared.contracts.registry import DELIVERY, MONITOR, ORDER, SERVICES
from shared.runtime.auth import service_client_id
from tools.stack import keycloak, zipkin
from tools.stack.config import REPO_ROOT, StackSettings
from tools.stack.processes import (
    python_executable,
    read_pid,
    require_free_port,
    start_detached,
    step,
    stop,
    wait_until,
)


@dataclass(frozen=True)
class Replica:
    """One process of a service. The first keeps the service's name for its pid file and log: `order`,
    then `order-2`, `order-3`; replicas share the database, the Kafka consumer group and the job types."""

    service: str
    number: int = 1

    @property
    def name(self) -> str:
        return self.service if self.number == 1 else f"{self.service}-{self.number}"

    def port(self, settings: StackSettings) -> int:
        return settings.replica_port(self.service, self.number)


def replicas(settings: StackSettings, service: str | None = None) -> list[Replica]:
    """The replicas the settings ask for, first replicas of all services first."""
    services = [service] if service else list(SERVICES)
    return [Replica(s, n) for n in range(1, settings.replicas + 1) for s in services]


def started_replicas(settings: StackSettings) -> list[Replica]:
    """Replicas with a pid file, however many were asked for when they started."""
    found = []
    for path in settings.pids.glob("*.pid") if settings.pids.is_dir() else ():
        match = re.fullmatch(r"([a-z]+)(?:-(\d+))?", path.stem)
        if match and match[1] in SERVICES:
            found.append(Replica(match[1], int(match[2] or 1)))
    return sorted(found, key=lambda r: (r.number, list(SERVICES).index(r.service)))


def environment(settings: StackSettings, service: str, replica: int = 1) -> dict[str, str]:
    prefix = f"FULFIL_{service.upper()}_"
    env = {
        prefix + "HTTP_HOST": settings.bind_host,
        prefix + "HTTP_PORT": str(settings.replica_port(service, replica)),
        prefix + "DATABASE_URL": settings.database_url(service),
        prefix + "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        prefix + "ZEEBE_ADDRESS": settings.zeebe_address,
        prefix + "AUTH_ISSUER": settings.auth_issuer,
        # Spans go to the stack's Zipkin; the exporter drops them while it is down (shared/runtime/tracing.py).
        prefix + "TRACING_ENDPOINT": zipkin.spans_url(settings) if settings.trace_export else "",
        "PYTHONUNBUFFERED": "1",
    }
    if service in keycloak.CALLING_SERVICES:
        env[prefix + "AUTH_CLIENT_SECRET"] = keycloak.client_secret(settings, service_client_id(service))
    if service == DELIVERY.name:
        # No load balancer here: delivery replica n asks order replica n, so one order replica down
        # holds up only some of the address look-ups (retried as jobs, possibly by another replica).
        order_port = settings.replica_port(ORDER.name, replica)
        env[prefix + "ORDER_API_URL"] = f"http://127.0.0.1:{order_port}"
    if service == MONITOR.name:
        # Retries, cancellations and task completions go to the engine's REST API; orders are linked for people.
        env[prefix + "CAMUNDA_REST_URL"] = f"http://localhost:{settings.camunda_http_port}"
        env[prefix + "ORDER_API_URL"] = f"http://127.0.0.1:{settings.order_port}"
        env[prefix + "ZIPKIN_URL"] = settings.zipkin_url
    if service == ORDER.name:
        env[prefix + "MONITOR_URL"] = f"http://127.0.0.1:{settings.monitor_port}"
    return env


def healthy(settings: StackSettings, replica: Replica) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{replica.port(settings)}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def readiness(settings: StackSettings, replica: Replica) -> str:
    """One line from the service's /ready: "ready", or which dependencies it cannot reach and why."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{replica.port(settings)}/ready", timeout=10) as r:
            report = json.load(r)
    except urllib.error.HTTPError as not_ready:
        report = json.load(not_ready)
    except (OSError, ValueError) as error:
        return f"not answering ({error})"
    down = [f"{name} unreachable ({d.get('error', '')})" for name, d in report["dependencies"].items() if not d["up"]]
    backlog = report.get("outbox", {})
    waiting = sum(backlog.get("unpublished", {}).values())
    outbox = f"; outbox: {waiting} waiting, oldest {backlog.get('oldest_unpublished_seconds', 0)} s" if waiting else ""
    expired = f", {backlog['expired']} expired" if backlog.get("expired") else ""
    return ("ready" if not down else "NOT READY: " + "; ".join(down)) + outbox + expired


def start(settings: StackSettings, wanted: list[Replica], env: dict[str, str] | None = None) -> None:
    """Start those of `wanted` that do not run; first replicas before the others, which find the schema migrated.

    `env` adds to (or overrides) what the launcher's own environment gives each replica."""
    for first in (True, False):
        pending = []
        for replica in wanted:
            if (replica.number == 1) != first:
                continue
            port = replica.port(settings)
            if read_pid(settings, replica.name):
                step(f"{replica.name} service already running on {port}")
                continue
            require_free_port(port, f"the {replica.name} service")
            step(f"starting the {replica.name} service on http://127.0.0.1:{port}")
            start_detached(settings, replica.name, [python_executable(), "-m", f"services.{replica.service}"],
                           env={**environment(settings, replica.service, replica.number), **(env or {})},
                           cwd=REPO_ROOT)
            pending.append(replica)
        for replica in pending:
            wait_until(lambda r=replica: healthy(settings, r), what=f"the {replica.name} service", timeout=90,
                       settings=settings, log_name=replica.name, pid_name=replica.name)


def start_all(settings: StackSettings) -> None:
    start(settings, replicas(settings))


def stop_all(settings: StackSettings) -> None:
    for replica in reversed(started_replicas(settings)):
        if stop(settings, replica.name):
            step(f"stopped the {replica.name} service")


# The simulated courier's delay from hand-over to delivered (services/delivery/settings.py).
COURIER_DELAY = "FULFIL_DELIVERY_COURIER_DELAY_SECONDS"


def started_with(settings: StackSettings, replica: Replica) -> dict[str, str]:
    """The environment a running replica was started with, as the kernel keeps it ({} if it does not run)."""
    pid = read_pid(settings, replica.name)
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes() if pid else b""
    except OSError:
        return {}
    return dict(entry.decode(errors="replace").partition("=")[::2] for entry in raw.split(b"\0") if entry)


@contextmanager
def courier_delay(settings: StackSettings, seconds: float) -> Iterator[list[Replica]]:
    """Inside, every running Delivery replica's courier takes `seconds`; a replica started with another delay is
    restarted with this one, and afterwards with the delay it had. Yields the replicas it restarted."""
    default = DeliverySettings.model_fields["courier_delay_seconds"].default
    running = [r for r in started_replicas(settings) if r.service == DELIVERY.name and read_pid(settings, r.name)]
    before = {r: started_with(settings, r).get(COURIER_DELAY, str(default)) for r in running}
    changed = [r for r in running if float(before[r]) != seconds]
    for replica in changed:
        step(f"restarting the {replica.name} service with its courier's delay at {seconds:g} s "
             f"(was {before[replica]} s)")
        stop(settings, replica.name)
        start(settings, [replica], env={COURIER_DELAY: f"{seconds:g}"})
    try:
        yield changed
    finally:
        for replica in changed:
            step(f"restarting the {replica.name} service with its courier's delay back at {before[replica]} s")
            stop(settings, replica.name)
            start(settings, [replica], env={COURIER_DELAY: before[replica]})
