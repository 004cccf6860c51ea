"""The inbox consumer against real PostgreSQL and Kafka: duplicates have no effect, bad events dead-letter."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import ClassVar

from confluent_kafka import Consumer, Producer
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from shared.contracts.base import OrderEvent as DomainEvent
from shared.contracts.registry import WAREHOUSE
from shared.runtime.db import unit_of_work
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import MAX_ATTEMPTS, EventConsumer, EventRejected, Subscription, forget_seen
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.relay import kafka_producer
from shared.runtime.tables import inbox
from tests.conftest import eventually
from tests.integration.conftest import consuming, dead_letter_headers


class StockCounted(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.test.stock-counted.v1"
    units: int


def test_duplicates_are_absorbed_and_bad_events_are_dead_lettered(stack, scratch_sessions, scratch_topic):
    handled: list[int] = []

    def on_counted(uow, event: StockCounted, envelope: Envelope) -> None:
        if event.units < 0:
            raise EventRejected("a count cannot be negative")
        handled.append(event.units)

    dead_letters = f"{scratch_topic}.dead-letter"
    consumer = EventConsumer(
        name="inbox-test", bootstrap=stack.kafka_bootstrap, group_id=f"inbox-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=[Subscription(StockCounted, on_counted)],
        sessions=scratch_sessions, units=UnitsOfWork(scratch_sessions, WAREHOUSE), dead_letter_topic=dead_letters,
        producer=kafka_producer(stack.kafka_bootstrap),
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
    assert outcomes(scratch_topic) == {"handled": 1, "duplicate": 1, "dead_lettered": 3}


def outcomes(topic: str) -> dict[str, float]:
    """What this process's consumers counted for the topic on /metrics, per outcome."""
    return {sample.labels["outcome"]: sample.value for family in REGISTRY.collect() for sample in family.samples
            if sample.name == "fulfil_consumer_records_total" and sample.labels["topic"] == topic and sample.value}


def consumer_of(stack, scratch_sessions, scratch_topic, on_counted) -> EventConsumer:
    return EventConsumer(
        name="inbox-test", bootstrap=stack.kafka_bootstrap, group_id=f"inbox-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=[Subscription(StockCounted, on_counted)],
        sessions=scratch_sessions, units=UnitsOfWork(scratch_sessions, WAREHOUSE),
        dead_letter_topic=f"{scratch_topic}.dead-letter", producer=kafka_producer(stack.kafka_bootstrap),
    )


def put_counts(stack, topic: str, *units: int) -> None:
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    for count in units:  # one key, so one partition: each waits behind the one before
        message = Envelope.wrap(StockCounted(order_id="o-1", units=count), source="/fulfilment/test").to_kafka()
        producer.produce(topic, key=message.key, value=message.value, headers=list(message.headers.items()))
    assert producer.flush(10) == 0


def test_a_record_that_keeps_failing_is_dead_lettered_after_a_few_attempts_and_the_partition_moves_on(
        stack, scratch_sessions, scratch_topic):
    attempts: list[int] = []
    handled: list[int] = []

    def on_counted(uow, event: StockCounted, envelope: Envelope) -> None:
        if event.units == 13:
            attempts.append(event.units)
            raise KeyError("no such shelf: 13")  # a bug or bad data: no retry will fix it
        handled.append(event.units)

    put_counts(stack, scratch_topic, 13, 14)
    with consuming(consumer_of(stack, scratch_sessions, scratch_topic, on_counted)):
        [dead] = dead_letter_headers(stack, f"{scratch_topic}.dead-letter", 1)
        eventually(lambda: handled == [14], what="the record behind the failing one")
    assert len(attempts) == MAX_ATTEMPTS
    assert dead["dlt_reason"].decode() == f"failed {MAX_ATTEMPTS} times: KeyError: 'no such shelf: 13'"
    assert outcomes(scratch_topic) == {"retried": MAX_ATTEMPTS - 1, "dead_lettered": 1, "handled": 1}


def test_a_record_that_fails_because_the_database_is_down_waits_for_it_and_is_never_dead_lettered(
        stack, scratch_sessions, scratch_topic):
    outage = {"left": MAX_ATTEMPTS * 2}
    handled: list[int] = []

    def on_counted(uow, event: StockCounted, envelope: Envelope) -> None:
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("the database is restarting"))
        handled.append(event.units)

    put_counts(stack, scratch_topic, 5)
    with consuming(consumer_of(stack, scratch_sessions, scratch_topic, on_counted)):
        eventually(lambda: handled == [5], timeout=60, what="the record once the database is back")
    reader = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"dlt-{uuid.uuid4()}",
                       "auto.offset.reset": "earliest"})
    reader.subscribe([f"{scratch_topic}.dead-letter"])
    assert reader.consume(num_messages=1, timeout=3) == []
    reader.close()
    assert outcomes(scratch_topic) == {"retried": MAX_ATTEMPTS * 2, "handled": 1}


def test_event_ids_past_the_inbox_retention_are_forgotten_and_recent_ones_kept(stack, scratch_sessions):
    with unit_of_work(scratch_sessions) as session:
        for event_id, days_ago in (("old-1", 20), ("old-2", 15), ("recent", 1)):
            session.execute(insert(inbox).values(consumer="inbox-test", event_id=event_id, event_type="t",
                                                 received_at=func.now() - timedelta(days=days_ago)))
    with unit_of_work(scratch_sessions) as session:
        assert forget_seen(session, timedelta(days=14), batch=1) == 1
    with unit_of_work(scratch_sessions) as session:
        assert forget_seen(session, timedelta(days=14)) == 1
        assert forget_seen(session, timedelta(days=14)) == 0
        assert set(session.execute(select(inbox.c.event_id)).scalars()) == {"recent"}
