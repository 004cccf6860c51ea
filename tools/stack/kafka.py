"""Apache Kafka 4 as a single KRaft node from its Maven Central jars; storage is formatted once."""
from __future__ import annotations

import base64
import subprocess
import uuid

from tools.stack import artifacts
from tools.stack.config import StackSettings
from tools.stack.errors import StackError
from tools.stack.java import java_binary
from tools.stack.processes import needs_start, port_is_open, start_detached, step, wait_until

NAME = "kafka"

LOG4J2 = """\
Configuration:
  status: warn
  Appenders:
    Console:
      name: stdout
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: info
      AppenderRef:
        ref: stdout
    Logger:
      - name: kafka
        level: warn
      - name: org.apache.kafka
        level: warn
"""


def server_properties(settings: StackSettings) -> str:
    data = settings.state_dir / "kafka" / "data"
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=localhost:{settings.kafka_controller_port}",
        f"listeners=PLAINTEXT://{settings.bind_host}:{settings.kafka_port},"
        f"CONTROLLER://{settings.bind_host}:{settings.kafka_controller_port}",
        f"advertised.listeners=PLAINTEXT://localhost:{settings.kafka_port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data}",
        "num.partitions=3",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        # Topics are created by the launcher with the partitions we want, never by a typo.
        "auto.create.topics.enable=false",
        "group.initial.rebalance.delay.ms=0",
        "",
    ])


def start(settings: StackSettings) -> None:
    if not needs_start(settings, NAME, f"Kafka already running on {settings.kafka_port}",
                       {settings.kafka_port: "Kafka", settings.kafka_controller_port: "the Kafka controller"}):
        return
    libs = artifacts.kafka_libs(settings)
    home = settings.state_dir / "kafka"
    home.mkdir(parents=True, exist_ok=True)
    properties = home / "server.properties"
    properties.write_text(server_properties(settings))
    (home / "log4j2.yaml").write_text(LOG4J2)
    java = [java_binary(), "-cp", f"{libs}/*", f"-Dlog4j2.configurationFile={home / 'log4j2.yaml'}"]
    if not (home / "data" / "meta.properties").is_file():
        step("formatting Kafka KRaft storage")
        result = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id()}",
             "-c", str(properties), "--standalone"],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed: {result.stderr.strip()[-400:]}")
    step(f"starting Kafka {artifacts.KAFKA_VERSION} (KRaft) on localhost:{settings.kafka_port}")
    start_detached(settings, NAME, [*java, "-Xmx512m", "kafka.Kafka", str(properties)])
    wait_until(lambda: _broker_ready(settings), what="Kafka", timeout=90,
               settings=settings, log_name=NAME, pid_name=NAME)


def cluster_id() -> str:
    """A KRaft cluster id: a random 16-byte id, base64url-encoded, as Kafka's own tool makes it.

    Like Kafka's Uuid.randomUuid, never one that starts with "-": the storage tool's argument
    parser would read it as an option (a CI run failed on exactly that, one time in 64).
    """
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


def _broker_ready(settings: StackSettings) -> bool:
    if not port_is_open(settings.kafka_port):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": settings.kafka_bootstrap}).list_topics(timeout=2)
    except Exception:  # noqa: BLE001 - any failure here just means "not ready yet"
        return False
    # After a restart the broker answers before it leads its partitions again: ready means every one has a leader.
    return bool(metadata.brokers) and all(partition.leader >= 0 and partition.error is None
                                          for topic in metadata.topics.values()
                                          for partition in topic.partitions.values())
