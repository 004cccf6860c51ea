"""The Camunda 8 orchestration cluster (Zeebe broker with embedded gateway) from its Maven Central tarball."""
from __future__ import annotations

import json
import urllib.request

from shared.stack import artifacts
from shared.stack.config import CAMUNDA_VERSION, StackSettings
from shared.stack.java import java_home
from shared.stack.processes import read_pid, require_free_port, start_detached, step, wait_until

NAME = "camunda"


def start(settings: StackSettings) -> None:
    if read_pid(settings, NAME):
        step(f"Camunda already running (gRPC {settings.zeebe_grpc_port}, REST {settings.camunda_http_port})")
        return
    for port, what in (
        (settings.zeebe_grpc_port, "the Zeebe gateway (gRPC)"),
        (settings.camunda_http_port, "the Camunda REST API"),
        (settings.camunda_management_port, "Camunda's management endpoint"),
        (26501, "the Zeebe broker's command API"),
        (26502, "the Zeebe cluster port"),
    ):
        require_free_port(port, what)
    home = artifacts.camunda_home(settings)
    data = settings.state_dir / "camunda" / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = {
        "JAVA_HOME": str(java_home()),
        "JAVA_OPTS": f"-Xmx{settings.java_heap} -XX:+ExitOnOutOfMemoryError",
        "ZEEBE_BROKER_GATEWAY_ENABLE": "true",
        "ZEEBE_BROKER_GATEWAY_NETWORK_PORT": str(settings.zeebe_grpc_port),
        "ZEEBE_BROKER_GATEWAY_SECURITY_AUTHENTICATION_MODE": "none",
        "ZEEBE_BROKER_DATA_DIRECTORY": str(data),
        # A laptop-sized single node: one partition, and a disk watermark that a busy dev disk passes.
        "ZEEBE_BROKER_CLUSTER_PARTITIONSCOUNT": "1",
        "ZEEBE_BROKER_DATA_DISK_FREESPACE_PROCESSING": "512MB",
        "ZEEBE_BROKER_DATA_DISK_FREESPACE_REPLICATION": "256MB",
        "ZEEBE_CLOCK_CONTROLLED": "true",
        "SERVER_PORT": str(settings.camunda_http_port),
        "MANAGEMENT_SERVER_PORT": str(settings.camunda_management_port),
    }
    step(f"starting Camunda {CAMUNDA_VERSION} (Zeebe broker + gateway)")
    start_detached(settings, NAME, [str(home / "bin" / "broker")], env=env, cwd=home)
    wait_until(lambda: ready(settings), what="Zeebe", timeout=180,
               settings=settings, log_name=NAME, pid_name=NAME)


def ready(settings: StackSettings) -> bool:
    """The broker is ready when the REST topology reports a healthy leader for every partition."""
    try:
        with urllib.request.urlopen(
            f"http://localhost:{settings.camunda_http_port}/v2/topology", timeout=2
        ) as response:
            topology = json.load(response)
    except (OSError, ValueError):
        return False
    partitions = [p for broker in topology.get("brokers", []) for p in broker.get("partitions", [])]
    return bool(partitions) and all(
        p.get("role") == "leader" and p.get("health") == "healthy" for p in partitions
    )
