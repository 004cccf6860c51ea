"""Zipkin, where the services send their spans and people read the traces, from its Maven Central exec jar.

Spans are kept in memory only (Zipkin's `mem` storage, the newest MEMORY_SPANS): traces are for following an
order now, not a record; a restart forgets them. The services' exporter sends without waiting (see
shared/runtime/tracing.py), so a Zipkin that is down costs traces, never orders.
"""
from __future__ import annotations

import json
import urllib.request

from tools.stack import artifacts
from tools.stack.config import ZIPKIN_VERSION, StackSettings
from tools.stack.java import java_binary
from tools.stack.processes import needs_start, start_detached, step, wait_until

NAME = "zipkin"
# Enough for a few thousand orders' traces; the oldest spans go first when it is full.
MEMORY_SPANS = 500_000
HEAP = "512m"


def spans_url(settings: StackSettings) -> str:
    """Where the services send their spans: Zipkin's collector of JSON v2 spans."""
    return f"{settings.zipkin_url}/api/v2/spans"


def server_environment(settings: StackSettings) -> dict[str, str]:
    """Zipkin's own settings (its documented variables, which the official image reads the same way)."""
    return {
        "STORAGE_TYPE": "mem",
        "MEM_MAX_SPANS": str(MEMORY_SPANS),
        "QUERY_PORT": str(settings.zipkin_port),
        # Spans come over HTTP only; its Kafka and other collectors stay off, whatever this shell has set.
        "COLLECTOR_KAFKA_ENABLED": "false",
        "COLLECTOR_RABBITMQ_ENABLED": "false",
        "COLLECTOR_ACTIVEMQ_ENABLED": "false",
        "COLLECTOR_PULSAR_ENABLED": "false",
    }


def server_options(settings: StackSettings) -> list[str]:
    """On the stack's one address: Zipkin's server (Armeria) takes its listening ports as a list, which a
    command line replaces whole, so port and protocol are given again beside the address."""
    return [
        f"--armeria.ports[0].ip={settings.bind_host}",
        f"--armeria.ports[0].port={settings.zipkin_port}",
        "--armeria.ports[0].protocols[0]=http",
    ]


def start(settings: StackSettings) -> None:
    """Start Zipkin without waiting for it: its JVM starts while the rest of the stack does (see `wait_ready`)."""
    if not needs_start(settings, NAME, f"Zipkin already running on {settings.zipkin_url}/zipkin/",
                       {settings.zipkin_port: "Zipkin"}):
        return
    jar = artifacts.zipkin_jar(settings)
    step(f"starting Zipkin {ZIPKIN_VERSION} on {settings.zipkin_url}/zipkin/ (spans in memory)")
    # The JDK's resolver: Armeria's own binds a UDP socket on every address of the machine (ss lists *:<ephemeral>),
    # and every socket of the stack stays on loopback (tests/e2e/test_exposure.py).
    start_detached(settings, NAME, [java_binary(), f"-Xmx{HEAP}", "-Dcom.linecorp.armeria.useJdkDnsResolver=true",
                                    "-jar", str(jar), *server_options(settings)],
                   env=server_environment(settings), cwd=settings.state_dir)


def wait_ready(settings: StackSettings) -> None:
    wait_until(lambda: ready(settings), what="Zipkin", timeout=180, settings=settings, log_name=NAME, pid_name=NAME)


def ready(settings: StackSettings) -> bool:
    """Zipkin and its storage report themselves up."""
    try:
        with urllib.request.urlopen(f"{settings.zipkin_url}/health", timeout=2) as response:
            return response.status == 200 and json.load(response).get("status") == "UP"
    except (OSError, ValueError):
        return False
