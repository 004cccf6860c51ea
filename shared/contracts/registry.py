"""Who is who: every service's name, port, database, topics and CloudEvents source, written once.

The launcher, each service's settings, topic creation, the event catalog and docker-compose's
test all read this list.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    # What its API document and its pages are called.
    title: str
    # Whether it publishes domain events on its own topic.
    publishes: bool
    # The services whose events it consumes.
    consumes: tuple[str, ...] = ()
    # Topics it reads that are no service's events, e.g. the engine's records.
    reads: tuple[str, ...] = ()

    @property
    def database(self) -> str:
        """One database and one role per service; `order` alone is an SQL keyword, hence the suffix."""
        return f"{self.name}_service"

    @property
    def events_topic(self) -> str:
        return f"{self.name}.events"

    @property
    def source(self) -> str:
        """The CloudEvents `source` of everything it publishes."""
        return f"/fulfilment/{self.name}"

    @property
    def dead_letter_topic(self) -> str:
        """Where its consumer parks the events it cannot accept."""
        return f"{self.name}.dead-letter"

    @property
    def consumed_topics(self) -> list[str]:
        return [*(SERVICES[name].events_topic for name in self.consumes), *self.reads]


ORDER = Service("order", 8001, "Order service", publishes=True, consumes=("warehouse", "delivery"))
WAREHOUSE = Service("warehouse", 8002, "Warehouse service", publishes=True, consumes=("factory",))
FACTORY = Service("factory", 8003, "Factory service", publishes=True, consumes=("warehouse",))
DELIVERY = Service("delivery", 8004, "Delivery service", publishes=True)
ANALYTICS = Service("analytics", 8005, "Analytics service", publishes=False,
                    consumes=("order", "warehouse", "factory", "delivery"))

# The engine's own records (Zeebe's JSON, keyed by process instance), published by the broker's Kafka
# exporter (tools/stack/exporter): what the process monitor projects and analysts may read.
ENGINE_RECORDS_TOPIC = "zeebe.records"
# The kinds of engine events it carries: deployed processes, what instances did, their jobs, incidents,
# user tasks, timers, variables and published messages.
ENGINE_RECORD_VALUE_TYPES = ("PROCESS", "PROCESS_INSTANCE", "INCIDENT", "JOB", "USER_TASK", "TIMER", "VARIABLE",
                             "MESSAGE")

MONITOR = Service("monitor", 8006, "Process monitor", publishes=False, reads=(ENGINE_RECORDS_TOPIC,))

SERVICES: dict[str, Service] = {s.name: s for s in (ORDER, WAREHOUSE, FACTORY, DELIVERY, ANALYTICS, MONITOR)}
PUBLISHERS = [s for s in SERVICES.values() if s.publishes]
CONSUMERS = [s for s in SERVICES.values() if s.consumed_topics]


def all_topics() -> list[str]:
    """Every topic the suite uses: one per publisher for its events, one per consumer for its dead letters,
    and the engine's records."""
    return [*(s.events_topic for s in PUBLISHERS), *(s.dead_letter_topic for s in CONSUMERS), ENGINE_RECORDS_TOPIC]
