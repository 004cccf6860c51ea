"""Dead letters for operators: list what the consumers set aside and why, and put one back once its cause is fixed.

A dead letter is the original record (key, value, headers) plus `dlt_*` headers that say which
consumer refused it, why, and where it came from (see `shared.runtime.inbox`). Putting it back publishes
the original record on its source topic again: every consumer of that topic sees it, and those
that had already applied it skip it through their inbox. The record carries the dead letter's id
(`shared.runtime.inbox.PUT_BACK`): the monitor, which de-duplicates by the engine's position and has applied
later records since, would otherwise skip it as seen.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from confluent_kafka import Consumer, TopicPartition

from shared.contracts.registry import CONSUMERS, SERVICES
from shared.runtime.inbox import DLT_PREFIX, PUT_BACK
from shared.runtime.relay import kafka_producer

CONSUMER_NAMES = tuple(c.name for c in CONSUMERS)


class UnknownDeadLetter(LookupError):
    """No dead letter with that id."""


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    partition: int
    offset: int
    at: datetime
    key: bytes | None
    value: bytes | None
    reason: str
    source_topic: str
    source_position: str
    headers: list[tuple[str, bytes]] = field(repr=False)

    @property
    def id(self) -> str:
        """What an operator types to put it back: consumer, partition and offset in its dead-letter topic."""
        return f"{self.consumer}:{self.partition}:{self.offset}"

    @property
    def event_type(self) -> str:
        return dict(self.headers).get("ce_type", b"?").decode(errors="replace")


def _from_record(consumer: str, record) -> DeadLetter:
    headers = [(name, value or b"") for name, value in (record.headers() or [])]
    dlt = {name[len(DLT_PREFIX):]: value.decode(errors="replace") for name, value in headers
           if name.startswith(DLT_PREFIX)}
    return DeadLetter(
        consumer=consumer, partition=record.partition(), offset=record.offset(),
        at=datetime.fromtimestamp(record.timestamp()[1] / 1000, timezone.utc),
        key=record.key(), value=record.value(), reason=dlt.get("reason", "?"),
        source_topic=dlt.get("topic", "?"), source_position=f"{dlt.get('partition', '?')}:{dlt.get('offset', '?')}",
        headers=[(name, value) for name, value in headers if not name.startswith(DLT_PREFIX)],
    )


def read(bootstrap: str, consumers: tuple[str, ...] = CONSUMER_NAMES, timeout: float = 10) -> list[DeadLetter]:
    """Every dead letter of the given consumers, oldest first per partition; commits nothing."""
    return read_topics(bootstrap, {SERVICES[c].dead_letter_topic: c for c in consumers}, timeout)


def read_topics(bootstrap: str, consumer_of: dict[str, str], timeout: float = 10) -> list[DeadLetter]:
    """Every dead letter on these dead-letter topics (each to the consumer whose it is); commits nothing."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"dead-letter-reader-{uuid.uuid4()}",
                       "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    try:
        metadata = reader.list_topics(timeout=timeout).topics
        missing = [topic for topic in consumer_of if topic not in metadata]
        if missing:
            raise RuntimeError(f"no topic {', '.join(missing)}; the stack creates them at start")
        # Watermarks first: once partitions are assigned, each broker call waits for a fetch round.
        ends: dict[tuple[str, int], int] = {}
        starts = []
        for topic in consumer_of:
            for partition in sorted(metadata[topic].partitions):
                low, high = reader.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
                if high > low:
                    ends[(topic, partition)] = high
                    starts.append(TopicPartition(topic, partition, low))
        remaining = sum(ends[(tp.topic, tp.partition)] - tp.offset for tp in starts)
        found: list[DeadLetter] = []
        reader.assign(starts)
        while ends:
            records = reader.consume(num_messages=max(1, min(500, remaining)), timeout=timeout)
            if not records:
                raise RuntimeError(f"{', '.join(f'{t}[{p}]' for t, p in ends)} stopped answering before their end")
            for record in records:
                if record.error():
                    continue
                found.append(_from_record(consumer_of[record.topic()], record))
                remaining -= 1
                where = (record.topic(), record.partition())
                if where in ends and record.offset() >= ends[where] - 1:
                    del ends[where]
    finally:
        reader.close()
    return sorted(found, key=lambda letter: (letter.consumer, letter.partition, letter.offset))


def put_back(bootstrap: str, dead_letter_id: str) -> DeadLetter:
    """Publishes the original record of one dead letter on its source topic again."""
    consumer, _, _ = dead_letter_id.partition(":")
    if consumer not in CONSUMER_NAMES:
        raise UnknownDeadLetter(f"{dead_letter_id!r}: expected CONSUMER:PARTITION:OFFSET, consumer one of "
                                f"{', '.join(CONSUMER_NAMES)}")
    letter = next((d for d in read(bootstrap, (consumer,)) if d.id == dead_letter_id), None)
    if letter is None:
        raise UnknownDeadLetter(f"no dead letter {dead_letter_id}; `fulfil dead-letters list` shows them")
    republish(bootstrap, letter)
    return letter


def republish(bootstrap: str, letter: DeadLetter) -> None:
    """The dead letter's original record, on its source topic again, marked as put back."""
    producer = kafka_producer(bootstrap)
    producer.produce(letter.source_topic, key=letter.key, value=letter.value,
                     headers=[*letter.headers, (PUT_BACK, letter.id.encode())])
    if producer.flush(15):
        raise RuntimeError(f"{letter.source_topic} did not acknowledge the record")
