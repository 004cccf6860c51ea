"""The Camunda 8 orchestration cluster (Zeebe broker with embedded gateway) from its Maven Central tarball."""
from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from shared.contracts.registry import ENGINE_RECORD_VALUE_TYPES, ENGINE_RECORDS_TOPIC
from tools.stack import artifacts
from tools.stack.config import CAMUNDA_VERSION, KAFKA_VERSION, StackSettings
from tools.stack.errors import StackError
from tools.stack.java import java_home
from tools.stack.processes import needs_start, start_detached, step, wait_until

NAME = "camunda"
# Replay runs at roughly 20,000 records a second here: ten minutes covers far more than the 5 minutes of log a
# snapshot period leaves behind at the suite's highest rate.
REPLAY_TIMEOUT = 600

# The broker settings docker-compose.yml must share (tests/unit/test_docker_compose.py checks it):
# a laptop-sized single node with the gateway inside, no authentication, and a clock tests can move.
TOPOLOGY = {
    "ZEEBE_BROKER_GATEWAY_ENABLE": "true",
    "ZEEBE_BROKER_GATEWAY_SECURITY_AUTHENTICATION_MODE": "none",
    "ZEEBE_BROKER_CLUSTER_PARTITIONSCOUNT": "1",
    "ZEEBE_CLOCK_CONTROLLED": "true",
}

EXPORTER_SOURCE = Path(__file__).with_name("exporter") / "KafkaRecordExporter.java"
EXPORTER_CLASS = "fulfilment.exporter.KafkaRecordExporter"
# The broker loads an exporter from one jar, so the Kafka client's classes go into it; the rest of what
# the client needs (slf4j, compression codecs) the broker's own lib folder already has.
KAFKA_CLIENT_JAR = f"kafka-clients-{KAFKA_VERSION}.jar"


def exporter_build_steps(jdk: Path, home: Path, client: Path, classes: Path, jar: Path,
                         source: Path = EXPORTER_SOURCE) -> list[tuple[list[str], Path | None]]:
    """The commands that turn the exporter's source into its jar, each with the folder it must run in (None: any).

    tools/stack/exporter/Dockerfile runs the same ones for docker-compose.yml's broker image
    (tests/unit/test_docker_compose.py compares them)."""
    return [
        ([str(jdk / "javac"), "--release", "21", "-cp", f"{home / 'lib'}/*:{client}", "-d", str(classes),
          str(source)], None),
        ([str(jdk / "jar"), "--extract", "--file", str(client)], classes),
        ([str(jdk / "jar"), "--create", "--file", str(jar), "-C", str(classes), "."], None),
    ]


def exporter_environment(kafka_bootstrap: str, jar: str) -> dict[str, str]:
    """The broker settings that load the exporter from `jar` and point it at Kafka's engine-records topic."""
    return {
        "ZEEBE_BROKER_EXPORTERS_KAFKA_CLASSNAME": EXPORTER_CLASS,
        "ZEEBE_BROKER_EXPORTERS_KAFKA_JARPATH": jar,
        "ZEEBE_BROKER_EXPORTERS_KAFKA_ARGS_BOOTSTRAP": kafka_bootstrap,
        "ZEEBE_BROKER_EXPORTERS_KAFKA_ARGS_TOPIC": ENGINE_RECORDS_TOPIC,
        "ZEEBE_BROKER_EXPORTERS_KAFKA_ARGS_TYPES": ",".join(ENGINE_RECORD_VALUE_TYPES),
        # The exporter's Kafka client logs its whole configuration at INFO each time it connects.
        "LOGGING_LEVEL_ORG_APACHE_KAFKA": "WARN",
    }


def listen_environment(host: str) -> dict[str, str]:
    """Every port of the broker on `host` (loopback by default): the gateway's gRPC, the command and cluster
    APIs, the REST API and the management endpoint, none of which asks who is calling.

    Not its UDP sockets: in 8.6.0 the cluster's UDP unicast service (membership gossip, on the cluster port) binds
    the wildcard address whatever the host (io.atomix NettyUnicastService builds its bind address from the port
    alone), and so does the DNS resolver's client socket beside it (an ephemeral port). Nothing can be set to change
    that; tests/e2e/test_exposure.py allows exactly these two and nothing else."""
    return {
        "ZEEBE_BROKER_GATEWAY_NETWORK_HOST": host,
        "ZEEBE_BROKER_NETWORK_HOST": host,
        "SERVER_ADDRESS": host,
        "MANAGEMENT_SERVER_ADDRESS": host,
    }


def build_exporter(settings: StackSettings, home: Path) -> Path:
    """Compile the Kafka record exporter against this Camunda's jars and the Kafka client, once per change."""
    build = settings.state_dir / "camunda" / "exporter"
    jar = build / f"kafka-record-exporter-{CAMUNDA_VERSION}-{KAFKA_VERSION}.jar"
    if jar.is_file() and jar.stat().st_mtime >= EXPORTER_SOURCE.stat().st_mtime:
        return jar
    step("compiling the Kafka record exporter")
    client = artifacts.kafka_libs(settings) / KAFKA_CLIENT_JAR
    classes = build / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    classes.mkdir(parents=True)
    for args, cwd in exporter_build_steps(java_home() / "bin", home, client, classes, jar):
        result = subprocess.run(args, capture_output=True, text=True, cwd=cwd)
        if result.returncode != 0:
            raise StackError(f"building the Kafka record exporter failed: {result.stderr.strip()[-400:]}")
    return jar


def start(settings: StackSettings) -> None:
    if not needs_start(settings, NAME, f"Camunda already running (gRPC {settings.zeebe_grpc_port}, "
                                       f"REST {settings.camunda_http_port})", {
            settings.zeebe_grpc_port: "the Zeebe gateway (gRPC)",
            settings.camunda_http_port: "the Camunda REST API",
            settings.camunda_management_port: "Camunda's management endpoint",
            settings.zeebe_command_port: "the Zeebe broker's command API",
            settings.zeebe_internal_port: "the Zeebe cluster port"}):
        return
    home = artifacts.camunda_home(settings)
    exporter = build_exporter(settings, home)
    data = settings.state_dir / "camunda" / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = {
        "JAVA_HOME": str(java_home()),
        "JAVA_OPTS": f"-Xmx{settings.java_heap} -XX:+ExitOnOutOfMemoryError",
        **TOPOLOGY,
        "ZEEBE_BROKER_GATEWAY_NETWORK_PORT": str(settings.zeebe_grpc_port),
        "ZEEBE_BROKER_NETWORK_COMMANDAPI_PORT": str(settings.zeebe_command_port),
        "ZEEBE_BROKER_NETWORK_INTERNALAPI_PORT": str(settings.zeebe_internal_port),
        "ZEEBE_BROKER_DATA_DIRECTORY": str(data),
        # A disk watermark that a busy development disk passes.
        "ZEEBE_BROKER_DATA_DISK_FREESPACE_PROCESSING": "512MB",
        "ZEEBE_BROKER_DATA_DISK_FREESPACE_REPLICATION": "256MB",
        **exporter_environment(settings.kafka_bootstrap, str(exporter)),
        "SERVER_PORT": str(settings.camunda_http_port),
        "MANAGEMENT_SERVER_PORT": str(settings.camunda_management_port),
        **listen_environment(settings.bind_host),
    }
    step(f"starting Camunda {CAMUNDA_VERSION} (Zeebe broker + gateway)")
    start_detached(settings, NAME, [str(home / "bin" / "broker")], env=env, cwd=home)
    wait_until(lambda: ready(settings), what="Zeebe", timeout=180,
               settings=settings, log_name=NAME, pid_name=NAME)
    # The first command the engine takes after a restart, so it also waits out the replay of the log written
    # since the last snapshot: seconds after `down` (which snapshots), a minute or more after a crash in a long run.
    wait_until(lambda: reset_clock(settings), what="the engine to replay its log and take the real time",
               timeout=REPLAY_TIMEOUT, settings=settings, log_name=NAME, pid_name=NAME)


def reset_clock(settings: StackSettings) -> bool:
    """Give the engine the real time again.

    Camunda 8.6.0 restores the clock of its last snapshot on a restart: if the clock was pinned when the
    snapshot was taken and reset after it, it comes back pinned and every timer stands still. Only
    tests pin the clock, so a fresh start always means the real time."""
    request = urllib.request.Request(f"http://localhost:{settings.camunda_http_port}/v2/clock/reset",
                                     data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 204
    except (OSError, ValueError):
        return False


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


def partition(settings: StackSettings) -> dict:
    """The broker's own view of partition 1: roles, positions, its snapshot and its clock."""
    with urllib.request.urlopen(
        f"http://localhost:{settings.camunda_management_port}/actuator/partitions", timeout=5
    ) as response:
        return json.load(response)["1"]


def take_snapshot(settings: StackSettings) -> None:
    """Ask the broker to snapshot its state now rather than at its next period (5 minutes)."""
    request = urllib.request.Request(
        f"http://localhost:{settings.camunda_management_port}/actuator/partitions/takeSnapshot", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def snapshot_before_stop(settings: StackSettings, timeout: float = 30) -> bool:
    """Snapshot the state as it is now, so the next start replays nothing of the log; False when the broker
    does not answer or the snapshot is not in by `timeout` (the next start then replays more)."""
    try:
        processed = partition(settings)["processedPosition"]
        take_snapshot(settings)
    except (OSError, ValueError, KeyError):
        return False

    def covered() -> bool:
        try:
            # null until the partition's first snapshot is in
            return (partition(settings).get("processedPositionInSnapshot") or -1) >= processed
        except (OSError, ValueError):
            return False

    try:
        wait_until(covered, what="Camunda to snapshot its state", timeout=timeout, settings=settings, log_name=NAME)
    except StackError:
        return False
    return True
