"""Kafka topic names, and creating them (auto-creation is off so a typo never invents a topic)."""
from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

EVENT_TOPICS = {
    "order": "order.events",
    "warehouse": "warehouse.events",
    "factory": "factory.events",
    "delivery": "delivery.events",
}
# Services that consume, each with its own dead-letter topic.
CONSUMERS = ("order", "warehouse", "factory", "delivery", "analytics")
PARTITIONS = 3


def events_topic(service: str) -> str:
    return EVENT_TOPICS[service]


def dead_letter_topic(service: str) -> str:
    """Each consuming service parks the events it cannot accept on its own dead-letter topic."""
    return f"{service}.dead-letter"


def all_topics() -> list[str]:
    return [*EVENT_TOPICS.values(), *(dead_letter_topic(s) for s in CONSUMERS)]


def ensure_topics(bootstrap: str, names: list[str] | None = None) -> list[str]:
    """Create missing topics; returns the ones it created."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [name for name in (names or all_topics()) if name not in existing]
    if missing:
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=PARTITIONS, replication_factor=1) for name in missing]
        )
        for future in futures.values():
            future.result(timeout=30)
    return missing
