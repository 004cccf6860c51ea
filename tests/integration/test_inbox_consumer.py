"""The inbox consumer against real PostgreSQL and Kafka: duplicates have no effect, bad events dead-letter."""
from __future__ import annotations

import threading
import uuid
from typing import ClassVar

from confluent_kafka import Consumer, Producer
from sqlalchemy.exc import OperationalError

from contracts.base import Event as DomainEvent
from runtime.envelope import Envelope
from runtime.inbox import MAX_ATTEMPTS, EventConsumer, EventRejected, Subscription
from runtime.outbox import kafka_producer
from tests.conftest import eventually


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

    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        reader = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"dlt-{uuid.uuid4()}",
                           "auto.offset.reset": "earliest"})
        reader.subscribe([dead_letters])
        dead = []

        def three_dead_letters():
            message = reader.poll(0.5)
            if message is not None and not message.error():
                dead.append(dict(message.headers()))
            return len(dead) >= 3
        eventually(three_dead_letters, what="three dead letters")
        reader.close()
    finally:
        stop.set()
        thread.join(10)

    assert handled == [7], "the redelivered event had no second effect"
    reasons = sorted(h["dlt_reason"].decode() for h in dead)
    assert any("rejected: a count cannot be negative" in r for r in reasons)
    assert any("units" in r and "payload is invalid" in r for r in reasons)
    assert any("not a CloudEvents" in r for r in reasons)
    assert all(h["dlt_consumer"] == b"inbox-test" for h in dead)


def run_consumer(consumer: EventConsumer):
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    return lambda: (stop.set(), thread.join(10))


def read_dead_letters(stack, topic: str, expected: int) -> list[dict]:
    reader = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"dlt-{uuid.uuid4()}",
                       "auto.offset.reset": "earliest"})
    reader.subscribe([topic])
    dead: list[dict] = []

    def enough():
        message = reader.poll(0.5)
        if message is not None and not message.error():
            dead.append(dict(message.headers()))
        return len(dead) >= expected
    try:
        eventually(enough, timeout=60, what=f"{expected} dead letters")
    finally:
        reader.close()
    return dead


def test_a_record_that_keeps_failing_is_dead_lettered_after_a_few_attempts_and_the_partition_moves_on(
        stack, scratch_sessions, scratch_topic):
    attempts: list[int] = []
    handled: list[int] = []

    def on_counted(session, event: StockCounted, envelope: Envelope) -> None:
        if event.units == 13:
            attempts.append(event.units)
            raise KeyError("no such shelf: 13")  # a bug or bad data: no retry will fix it
        handled.append(event.units)

    dead_letters = f"{scratch_topic}.dead-letter"
    consumer = EventConsumer(
        name="inbox-test", bootstrap=stack.kafka_bootstrap, group_id=f"inbox-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=[Subscription(StockCounted, on_counted)],
        sessions=scratch_sessions, dead_letter_topic=dead_letters, producer=kafka_producer(stack.kafka_bootstrap),
    )
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    for units in (13, 14):  # one key, so one partition: 14 waits behind 13
        message = Envelope.wrap(StockCounted(order_id="o-1", units=units), source="/fulfilment/test").to_kafka()
        producer.produce(scratch_topic, key=message.key, value=message.value, headers=list(message.headers.items()))
    assert producer.flush(10) == 0

    stop = run_consumer(consumer)
    try:
        [dead] = read_dead_letters(stack, dead_letters, 1)
        eventually(lambda: handled == [14], what="the record behind the failing one")
    finally:
        stop()
    assert len(attempts) == MAX_ATTEMPTS
    assert dead["dlt_reason"].decode() == f"failed {MAX_ATTEMPTS} times: KeyError: 'no such shelf: 13'"


def test_a_record_that_fails_because_the_database_is_down_waits_for_it_and_is_never_dead_lettered(
        stack, scratch_sessions, scratch_topic):
    outage = {"left": MAX_ATTEMPTS * 2}
    handled: list[int] = []

    def on_counted(session, event: StockCounted, envelope: Envelope) -> None:
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("the database is restarting"))
        handled.append(event.units)

    dead_letters = f"{scratch_topic}.dead-letter"
    consumer = EventConsumer(
        name="inbox-test", bootstrap=stack.kafka_bootstrap, group_id=f"inbox-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=[Subscription(StockCounted, on_counted)],
        sessions=scratch_sessions, dead_letter_topic=dead_letters, producer=kafka_producer(stack.kafka_bootstrap),
    )
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    message = Envelope.wrap(StockCounted(order_id="o-1", units=5), source="/fulfilment/test").to_kafka()
    producer.produce(scratch_topic, key=message.key, value=message.value, headers=list(message.headers.items()))
    assert producer.flush(10) == 0

    stop = run_consumer(consumer)
    try:
        eventually(lambda: handled == [5], timeout=60, what="the record once the database is back")
    finally:
        stop()
    reader = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"dlt-{uuid.uuid4()}",
                       "auto.offset.reset": "earliest"})
    reader.subscribe([dead_letters])
    assert reader.consume(num_messages=1, timeout=3) == []
    reader.close()
