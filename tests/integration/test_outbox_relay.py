"""The outbox relay against real PostgreSQL and Kafka: only committed rows are published, once."""
from __future__ import annotations

import asyncio
import uuid
from typing import ClassVar

import pytest
from confluent_kafka import Consumer
from sqlalchemy import func, select

from contracts.base import Event as DomainEvent
from runtime.db import unit_of_work
from runtime.envelope import Envelope
from runtime.outbox import EventPublisher, OutboxRelay, kafka_producer
from runtime.tables import outbox


class ParcelWeighed(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.test.parcel-weighed.v1"
    grams: int


def relay_for(stack, sessions) -> OutboxRelay:
    # Kafka-only rows never reach the Zeebe client, so none is needed here.
    return OutboxRelay(sessions, kafka_producer(stack.kafka_bootstrap), zeebe=None,
                       loop=asyncio.new_event_loop(), poll_seconds=0.1)


def records_on(stack, topic: str, wait_seconds: float = 5.0) -> list:
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    found = consumer.consume(num_messages=100, timeout=wait_seconds)
    consumer.close()
    return [m for m in found if not m.error()]


def test_a_rolled_back_transaction_publishes_nothing(stack, scratch_sessions, scratch_topic):
    publisher = EventPublisher(source="/fulfilment/test", topic=scratch_topic)
    with pytest.raises(RuntimeError):
        with unit_of_work(scratch_sessions) as session:
            publisher.publish(session, ParcelWeighed(order_id="o-rolled-back", grams=1))
            raise RuntimeError("the state change failed")
    assert relay_for(stack, scratch_sessions).relay_batch() == 0
    assert records_on(stack, scratch_topic, wait_seconds=2) == []


def test_committed_events_are_published_in_order_and_marked_sent(stack, scratch_sessions, scratch_topic):
    publisher = EventPublisher(source="/fulfilment/test", topic=scratch_topic)
    with unit_of_work(scratch_sessions) as session:
        for grams in (100, 200, 300):
            publisher.publish(session, ParcelWeighed(order_id="o-1", grams=grams))
    relay = relay_for(stack, scratch_sessions)
    assert relay.relay_batch() == 3
    assert relay.relay_batch() == 0, "a published row is not published again"
    records = records_on(stack, scratch_topic)
    envelopes = [Envelope.from_kafka(r.headers(), r.key(), r.value()) for r in records]
    assert [e.data["grams"] for e in envelopes] == [100, 200, 300]
    assert {e.type for e in envelopes} == {ParcelWeighed.event_type}
    with unit_of_work(scratch_sessions) as session:
        assert session.execute(select(func.count()).where(outbox.c.published_at.is_(None))).scalar() == 0
