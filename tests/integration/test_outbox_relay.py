"""The outbox relay against real PostgreSQL and Kafka: only committed rows are published, once, each key in order."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import pytest
from confluent_kafka import Consumer, KafkaError
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, event, func, insert, select, update

from shared.contracts.base import OrderEvent as DomainEvent
from shared.contracts.base import OutgoingMessage
from shared.runtime.db import Wakeups, unit_of_work
from shared.runtime.envelope import Envelope
from shared.runtime.metrics import ReadAtScrape
from shared.runtime.outbox import UnitOfWork, backlog_metrics, delete_published, lane_signal
from shared.runtime.relay import KafkaLane, ZeebeLane, kafka_producer
from shared.runtime.tables import outbox


class ParcelWeighed(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.test.parcel-weighed.v1"
    grams: int


@dataclass(frozen=True)
class ScratchService:
    """Publishes on the test's scratch topic."""

    events_topic: str
    source: str = "/fulfilment/test"


def start_message(order_id: str, message_id: str, ttl_ms: int = 3_600_000) -> OutgoingMessage:
    return OutgoingMessage("order-placed", order_id, message_id, {}, ttl_ms)


def relay_for(stack, sessions) -> KafkaLane:
    return KafkaLane(sessions, kafka_producer(stack.kafka_bootstrap), poll_seconds=0.1)


def records_on(stack, topic: str, wait_seconds: float = 5.0) -> list:
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    found = consumer.consume(num_messages=100, timeout=wait_seconds)
    consumer.close()
    return [m for m in found if not m.error()]


def test_a_rolled_back_transaction_publishes_nothing(stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    with pytest.raises(RuntimeError):
        with unit_of_work(scratch_sessions) as session:
            UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-rolled-back", grams=1))
            raise RuntimeError("the state change failed")
    assert relay_for(stack, scratch_sessions).relay_batch() == 0
    assert records_on(stack, scratch_topic, wait_seconds=2) == []


def test_committed_events_are_published_in_order_and_marked_sent(stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    with unit_of_work(scratch_sessions) as session:
        for grams in (100, 200, 300):
            UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-1", grams=grams))
    relay = relay_for(stack, scratch_sessions)
    assert relay.relay_batch() == 3
    assert relay.relay_batch() == 0, "a published row is not published again"
    records = records_on(stack, scratch_topic)
    envelopes = [Envelope.from_kafka(r.headers(), r.key(), r.value()) for r in records]
    assert [e.data["grams"] for e in envelopes] == [100, 200, 300]
    assert {e.type for e in envelopes} == {ParcelWeighed.event_type}
    with unit_of_work(scratch_sessions) as session:
        assert session.execute(select(func.count()).where(outbox.c.published_at.is_(None))).scalar() == 0


def test_kafka_rows_go_out_while_zeebe_rows_wait_in_their_own_lane(stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    with unit_of_work(scratch_sessions) as session:
        UnitOfWork(session, service).send(start_message("o-1", "m-1"))
        UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-1", grams=1))
    assert relay_for(stack, scratch_sessions).relay_batch() == 1
    with unit_of_work(scratch_sessions) as session:
        waiting = session.execute(select(outbox.c.destination).where(outbox.c.published_at.is_(None))).scalars()
        assert list(waiting) == ["zeebe"]


def test_the_relay_counts_what_it_published_and_the_backlog_gauges_show_what_waits_per_lane(
        stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    with unit_of_work(scratch_sessions) as session:
        for order_id in ("o-1", "o-2"):
            UnitOfWork(session, service).send(start_message(order_id, f"m-{order_id}"))
            UnitOfWork(session, service).publish(ParcelWeighed(order_id=order_id, grams=1))
        session.execute(update(outbox).where(outbox.c.destination == "zeebe")
                        .values(created_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 2)))
    published = {"name": "fulfil_outbox_published_rows_total", "labels": {"lane": "kafka"}}
    before = REGISTRY.get_sample_value(**published) or 0
    assert relay_for(stack, scratch_sessions).relay_batch() == 2
    assert REGISTRY.get_sample_value(**published) - before == 2
    gauges = {(sample.name, sample.labels.get("lane")): sample.value
              for family in ReadAtScrape(scratch_sessions, backlog_metrics).collect() for sample in family.samples}
    assert gauges == {
        ("fulfil_outbox_backlog_rows", "kafka"): 0, ("fulfil_outbox_backlog_rows", "zeebe"): 2,
        ("fulfil_outbox_oldest_unpublished_age_seconds", "kafka"): 0,
        ("fulfil_outbox_oldest_unpublished_age_seconds", "zeebe"): pytest.approx(120, abs=30),
        ("fulfil_outbox_expired_rows", None): 0,
    }


def test_a_key_held_by_another_relay_waits_while_other_keys_go(stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    with unit_of_work(scratch_sessions) as session:
        for order_id, grams in (("o-a", 1), ("o-b", 2), ("o-a", 3)):
            UnitOfWork(session, service).publish(ParcelWeighed(order_id=order_id, grams=grams))
    other_replica = scratch_sessions.connect()
    try:
        # The other replica holds o-a's first row (as while it publishes it).
        first = other_replica.execute(select(outbox.c.seq).order_by(outbox.c.seq).limit(1)
                                      .with_for_update(skip_locked=True)).scalar_one()
        assert relay_for(stack, scratch_sessions).relay_batch() == 1
        envelopes = [Envelope.from_kafka(r.headers(), r.key(), r.value()) for r in records_on(stack, scratch_topic)]
        assert [e.data["grams"] for e in envelopes] == [2], "o-a's second row must not overtake its first"
    finally:
        other_replica.rollback()
        other_replica.close()
    assert first is not None
    assert relay_for(stack, scratch_sessions).relay_batch() == 2


class FailingFirstOf:
    """The real producer, except that the first record of `key` fails as an unreachable partition leader would."""

    def __init__(self, producer, key: str) -> None:
        self.producer = producer
        self.failing = key

    def produce(self, topic, *, key, on_delivery, **record) -> None:
        if key == self.failing:
            self.failing = None
            on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), None)
            return
        self.producer.produce(topic, key=key, on_delivery=on_delivery, **record)

    def flush(self, timeout=None) -> int:
        return self.producer.flush(timeout)


def test_a_key_whose_event_failed_waits_alone_and_keeps_its_order(stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    with unit_of_work(scratch_sessions) as session:
        for order_id, grams in (("o-a", 1), ("o-b", 2), ("o-a", 3), ("o-b", 4)):
            UnitOfWork(session, service).publish(ParcelWeighed(order_id=order_id, grams=grams))
    producer = kafka_producer(stack.kafka_bootstrap)
    assert KafkaLane(scratch_sessions, FailingFirstOf(producer, "o-a"), poll_seconds=0.1).relay_batch() == 2
    with unit_of_work(scratch_sessions) as session:
        waiting = session.execute(select(outbox.c.payload).where(outbox.c.published_at.is_(None))
                                  .order_by(outbox.c.seq)).scalars()
        assert [p["data"]["grams"] for p in waiting] == [1, 3], "o-a's second event waits for its first"
    assert KafkaLane(scratch_sessions, producer, poll_seconds=0.1).relay_batch() == 2
    envelopes = [Envelope.from_kafka(r.headers(), r.key(), r.value()) for r in records_on(stack, scratch_topic)]
    grams_of = {key: [e.data["grams"] for e in envelopes if e.subject == key] for key in ("o-a", "o-b")}
    assert grams_of == {"o-a": [1, 3], "o-b": [2, 4]}


def test_a_zeebe_message_past_its_ttl_is_marked_expired_not_published(stack, scratch_sessions):
    with unit_of_work(scratch_sessions) as session:
        UnitOfWork(session, ScratchService("unused")).send(start_message("o-1", "m-old", ttl_ms=60_000))
        session.execute(update(outbox).values(created_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 2)))
    # Expired rows never reach the client, so this lane needs none.
    lane = ZeebeLane(scratch_sessions, zeebe=None, loop=None, poll_seconds=0.1)
    assert lane.relay_batch() == 0
    with unit_of_work(scratch_sessions) as session:
        row = session.execute(select(outbox)).one()
        assert row.expired_at is not None and row.published_at is None
    assert lane.relay_batch() == 0, "an expired row is not picked up again"


def test_a_commit_in_the_process_wakes_the_relay_long_before_its_poll(stack, scratch_sessions, scratch_topic):
    wake = Wakeups(scratch_sessions).event(lane_signal("kafka"))
    lane = KafkaLane(scratch_sessions, kafka_producer(stack.kafka_bootstrap), poll_seconds=600, wake=wake)
    stop = threading.Event()
    thread = threading.Thread(target=lane.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # the lane found nothing and sleeps for its ten-minute poll
        with unit_of_work(scratch_sessions) as session:
            UnitOfWork(session, ScratchService(scratch_topic)).publish(ParcelWeighed(order_id="o-woken", grams=5))
        assert [r.key() for r in records_on(stack, scratch_topic, wait_seconds=8)] == [b"o-woken"]
    finally:
        stop.set()
        wake.set()
        thread.join(20)


def test_published_rows_past_their_retention_are_deleted_and_nothing_else(stack, scratch_sessions):
    def row(name: str, *, hours_ago: float, published: bool = False, expired: bool = False, key: str | None = None):
        at = func.now() - timedelta(hours=hours_ago)
        return {"id": uuid.uuid4(), "destination": "zeebe", "topic": "order-placed", "key": key or name,
                "payload": {"row": name}, "created_at": at, "published_at": at if published else None,
                "expired_at": at if expired else None}

    with unit_of_work(scratch_sessions) as session:
        for values in [row("old-published", hours_ago=100, published=True),
                       row("recent-published", hours_ago=1, published=True),
                       row("old-waiting", hours_ago=100),
                       row("expired-then-resent", hours_ago=101, expired=True, key="o-1"),
                       row("the-resend", hours_ago=100, published=True, key="o-1"),
                       row("expired-not-resent", hours_ago=100, expired=True),
                       row("expired-resent-lately", hours_ago=101, expired=True, key="o-2"),
                       row("the-recent-resend", hours_ago=1, published=True, key="o-2")]:
            session.execute(insert(outbox).values(**values))

    def left() -> set[str]:
        with unit_of_work(scratch_sessions) as session:
            return {payload["row"] for payload in session.execute(select(outbox.c.payload)).scalars()}

    with unit_of_work(scratch_sessions) as session:
        assert delete_published(session, timedelta(hours=72), batch=1) == 1
    with unit_of_work(scratch_sessions) as session:
        assert delete_published(session, timedelta(hours=72)) == 1
    assert left() == {"recent-published", "old-waiting", "expired-not-resent", "expired-resent-lately",
                      "the-recent-resend"}, "an expired row goes with the resend that settled it, not before"
    with unit_of_work(scratch_sessions) as session:
        assert delete_published(session, timedelta(hours=72)) == 0


@contextmanager
def statements_run(sessions) -> Iterator[list[str]]:
    """The SQL statements run on `sessions` while the block runs (transaction control aside)."""
    run: list[str] = []

    def count(_connection, _cursor, statement, *_) -> None:
        run.append(statement.split()[0])

    event.listen(sessions, "before_cursor_execute", count)
    try:
        yield run
    finally:
        event.remove(sessions, "before_cursor_execute", count)


def test_rows_a_commit_hands_to_its_lane_are_claimed_in_one_statement_where_the_poll_takes_two(
        stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    handed = Wakeups(scratch_sessions).handed_over(lane_signal("kafka"))
    lane = KafkaLane(scratch_sessions, kafka_producer(stack.kafka_bootstrap), poll_seconds=600, handed=handed)
    assert lane.relay_batch() == 0  # the first round polls; the next poll is ten minutes away
    with unit_of_work(scratch_sessions) as session:
        UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-1", grams=1))
    assert len(handed) == 1
    with statements_run(scratch_sessions) as taken_over:
        assert lane.relay_batch() == 1
    with unit_of_work(scratch_sessions) as session:
        UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-1", grams=2))
    handed.clear()  # as if another replica had written it: only the poll finds it
    lane.next_poll = 0
    with statements_run(scratch_sessions) as polled:
        assert lane.relay_batch() == 1
    assert (taken_over, polled) == (["SELECT", "UPDATE"], ["SELECT", "SELECT", "UPDATE"])
    assert [r.key() for r in records_on(stack, scratch_topic)] == [b"o-1", b"o-1"]


def test_a_handed_row_waits_behind_an_earlier_row_of_its_key_that_another_replica_wrote(
        stack, scratch_sessions, scratch_topic):
    service = ScratchService(scratch_topic)
    handed = Wakeups(scratch_sessions).handed_over(lane_signal("kafka"))
    lane = KafkaLane(scratch_sessions, kafka_producer(stack.kafka_bootstrap), poll_seconds=600, handed=handed)
    assert lane.relay_batch() == 0
    other_replica = create_engine(scratch_sessions.url)
    try:
        with unit_of_work(other_replica) as session:
            UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-a", grams=1))
    finally:
        other_replica.dispose()
    with unit_of_work(scratch_sessions) as session:
        UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-a", grams=2))
        UnitOfWork(session, service).publish(ParcelWeighed(order_id="o-b", grams=3))
    assert lane.relay_batch() == 1, "o-b goes; o-a's handed row must not overtake the row the other replica wrote"
    lane.next_poll = 0
    assert lane.relay_batch() == 2
    envelopes = [Envelope.from_kafka(r.headers(), r.key(), r.value()) for r in records_on(stack, scratch_topic)]
    assert [e.data["grams"] for e in envelopes if e.subject == "o-a"] == [1, 2]
