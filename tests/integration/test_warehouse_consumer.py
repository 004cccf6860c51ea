"""The Warehouse's own event handlers behind the inbox consumer, on real Kafka and PostgreSQL (scratch ones)."""
from __future__ import annotations

import uuid

from confluent_kafka import Producer
from sqlalchemy import text

from services.warehouse.consumers import SUBSCRIPTIONS
from shared.contracts.factory import ItemsProduced
from shared.contracts.registry import FACTORY, WAREHOUSE
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventConsumer
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.relay import kafka_producer
from tests.conftest import eventually
from tests.integration.conftest import consuming, dead_letter_headers


def test_arrivals_no_retry_can_fix_are_dead_lettered_with_their_cause_and_the_next_one_is_booked(
        stack, warehouse_sessions, scratch_topic):
    dead_letters = f"{scratch_topic}.dead-letter"
    consumer = EventConsumer(
        name="warehouse-test", bootstrap=stack.kafka_bootstrap, group_id=f"warehouse-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=SUBSCRIPTIONS, sessions=warehouse_sessions,
        units=UnitsOfWork(warehouse_sessions, WAREHOUSE), dead_letter_topic=dead_letters,
        producer=kafka_producer(stack.kafka_bootstrap),
    )
    # One order id: one partition, so a record retried forever would hold back the ones after it.
    order_id = str(uuid.uuid4())
    arrivals = [ItemsProduced(order_id=order_id, request_id=str(uuid.uuid4()), sku=sku, quantity=quantity)
                for sku, quantity in (("NO-SUCH-SKU", 2), ("KB-101", 2_000_000_000), ("KB-101", 3))]
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    for arrival in arrivals:
        record = Envelope.wrap(arrival, source=FACTORY.source).to_kafka()
        producer.produce(scratch_topic, key=record.key, value=record.value, headers=list(record.headers.items()))
    assert producer.flush(10) == 0

    with consuming(consumer):
        reasons = [headers["dlt_reason"].decode() for headers in dead_letter_headers(stack, dead_letters, 2)]

        def kb_101_on_hand():
            with warehouse_sessions.connect() as session:
                return session.execute(text("SELECT on_hand FROM stock WHERE sku = 'KB-101'")).scalar()
        eventually(lambda: kb_101_on_hand() == 50 + 3, what="the good arrival to be booked")

    assert reasons == [
        f"{ItemsProduced.event_type} rejected: unknown sku: NO-SUCH-SKU",
        f"{ItemsProduced.event_type} rejected: KB-101: 2,000,000,000 more units would put more than "
        "1,000,000,000 in stock",
    ]
