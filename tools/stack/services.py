"""Start the services as separate processes, each pointed at its own database."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from contracts.registry import DELIVERY, SERVICES
from tools.stack.config import StackSettings
from tools.stack.processes import python_executable, read_pid, require_free_port, start_detached, step, wait_until


def environment(settings: StackSettings, service: str) -> dict[str, str]:
    prefix = f"FULFIL_{service.upper()}_"
    env = {
        prefix + "HTTP_PORT": str(settings.service_port(service)),
        prefix + "DATABASE_URL": settings.database_url(service),
        prefix + "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        prefix + "ZEEBE_ADDRESS": settings.zeebe_address,
        "PYTHONUNBUFFERED": "1",
    }
    if service == DELIVERY.name:
        env[prefix + "ORDER_API_URL"] = f"http://127.0.0.1:{settings.order_port}"
    return env


def healthy(settings: StackSettings, service: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{settings.service_port(service)}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def readiness(settings: StackSettings, service: str) -> str:
    """One line from the service's /ready: "ready", or which dependencies it cannot reach and why."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{settings.service_port(service)}/ready", timeout=10) as r:
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


def start_all(settings: StackSettings) -> None:
    from tools.stack.config import REPO_ROOT

    pending = []
    for service in SERVICES:
        if read_pid(settings, service):
            step(f"{service} service already running on {settings.service_port(service)}")
            continue
        require_free_port(settings.service_port(service), f"the {service} service")
        step(f"starting the {service} service on http://127.0.0.1:{settings.service_port(service)}")
        start_detached(settings, service, [python_executable(), "-m", f"services.{service}"],
                       env=environment(settings, service), cwd=REPO_ROOT)
        pending.append(service)
    for service in pending:
        wait_until(lambda s=service: healthy(settings, s), what=f"the {service} service", timeout=90,
                   settings=settings, log_name=service, pid_name=service)


def stop_all(settings: StackSettings) -> None:
    from tools.stack.processes import stop

    for service in reversed(SERVICES):
        if stop(settings, service):
            step(f"stopped the {service} service")
