"""The inbox consumer against real PostgreSQL and Kafka: duplicates have no effect, bad events dead-letter."""
from __future__ import annotations

import uuid
from typing import ClassVar

from confluent_kafka import Producer

from contracts.base import Event as DomainEvent
from runtime.envelope import Envelope
from runtime.inbox import EventConsumer, EventRejected, Subscription
from runtime.outbox import kafka_producer
from tests.integration.conftest import consuming, dead_letter_headers


class StockCounted(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.test.stock-counted.v1"
    units: int


def test_duplicates_are_absorbed_and_bad_events_are_dead_lettered(stack, scratch_sessions, scratch_topic):
    handled: list[int] = []

    def on_counted(session, event: StockCounted, envelope: Envelope) -> None:
        if event.units < 0:
            raise EventRejected("a count cannot be negative")
        handled.append(event.units)

    dead_letters = f"{scratch_topic}.dead-letter"
    consumer = EventConsumer(
        name="inbox-test", bootstrap=stack.kafka_bootstrap, group_id=f"inbox-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=[Subscription(StockCounted, on_counted)],
        sessions=scratch_sessions, dead_letter_topic=dead_letters, producer=kafka_producer(stack.kafka_bootstrap),
    )
    good = Envelope.wrap(StockCounted(order_id="o-1", units=7), source="/fulfilment/test").to_kafka()
    negative = Envelope.wrap(StockCounted(order_id="o-2", units=-1), source="/fulfilment/test").to_kafka()
    wrong_shape = Envelope(type=StockCounted.event_type, source="/fulfilment/test", subject="o-3",
                           data={"order_id": "o-3", "units": "many"}, correlation_id="o-3").to_kafka()
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    for message in (good, good, negative, wrong_shape):  # `good` twice: a redelivery
        producer.produce(scratch_topic, key=message.key, value=message.value, headers=list(message.headers.items()))
    producer.produce(scratch_topic, key=b"o-4", value=b"plain text, no envelope")
    assert producer.flush(10) == 0

    with consuming(consumer):
        dead = dead_letter_headers(stack, dead_letters, 3)

    assert handled == [7], "the redelivered event had no second effect"
    reasons = sorted(h["dlt_reason"].decode() for h in dead)
    assert any("rejected: a count cannot be negative" in r for r in reasons)
    assert any("units" in r and "payload is invalid" in r for r in reasons)
    assert any("not a CloudEvents" in r for r in reasons)
    assert all(h["dlt_consumer"] == b"inbox-test" for h in dead)
