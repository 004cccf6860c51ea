"""Orders name only SKUs the Warehouse announced and keep within their limits: the Order service's catalog, filled by
its consumer from sku-listed events, and checked when an order is placed (scratch database and topic)."""
from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer
from sqlalchemy import text

from services.order import commands, db
from services.order.consumers import SUBSCRIPTIONS
from services.order.domain import LineProblem, OrderLine, OrderLinesRefused
from shared.contracts.registry import ORDER, WAREHOUSE
from shared.contracts.warehouse import SkuListed
from shared.runtime.db import unit_of_work
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventConsumer
from shared.runtime.outbox import UnitOfWork, UnitsOfWork
from shared.runtime.relay import kafka_producer
from tests.conftest import eventually
from tests.integration.conftest import consuming, dead_letter_headers, place_test_order


def place(sessions, *items: OrderLine) -> str:
    with unit_of_work(sessions) as session:
        return place_test_order(session, *items, listed=False).order_id


def stored(sessions) -> tuple[int, int]:
    """Orders, and outbox rows (their events and start messages)."""
    with sessions.connect() as session:
        return (session.execute(text("SELECT count(*) FROM orders")).scalar(),
                session.execute(text("SELECT count(*) FROM outbox")).scalar())


def list_skus(sessions, *skus: str) -> None:
    with unit_of_work(sessions) as session:
        for sku in skus:
            commands.list_sku(UnitOfWork(session, ORDER), sku, f"item {sku}")


def test_an_order_naming_a_sku_not_in_the_catalog_is_refused_naming_the_item_and_nothing_is_stored(order_sessions):
    list_skus(order_sessions, "KB-101")
    with pytest.raises(OrderLinesRefused) as refusal:
        place(order_sessions, OrderLine("KB-101", 1), OrderLine("NO-SUCH-SKU", 1))
    assert refusal.value.problems == [LineProblem(1, "sku", "NO-SUCH-SKU is not in the catalog")]
    assert stored(order_sessions) == (0, 0)
    assert place(order_sessions, OrderLine("KB-101", 1))


def test_an_order_over_its_limits_is_refused_however_its_items_are_split(order_sessions):
    """The incident this prevents: 100 items of 10,000 units of one SKU, a million units asked of the factory."""
    ten_skus = [f"SKU-{n}" for n in range(10)]
    list_skus(order_sessions, "KB-101", "MS-202", *ten_skus)
    with pytest.raises(OrderLinesRefused) as per_line:
        place(order_sessions, *[OrderLine("KB-101", 10_000)] * 100)
    assert per_line.value.problems == [
        LineProblem(0, "quantity", "10000 units of KB-101; an order takes at most 100 of one SKU"),
        LineProblem(0, "quantity", "10000 units in the order by this item; an order takes at most 1000")]
    with pytest.raises(OrderLinesRefused) as per_order:
        place(order_sessions, *[OrderLine(sku, 100) for sku in ten_skus], OrderLine("KB-101", 1))
    assert per_order.value.problems == [
        LineProblem(10, "quantity", "1001 units in the order by this item; an order takes at most 1000")]
    assert stored(order_sessions) == (0, 0)
    assert place(order_sessions, OrderLine("KB-101", 60), OrderLine("MS-202", 100), OrderLine("KB-101", 40))


def test_the_consumer_lists_each_announced_sku_once_and_refuses_one_no_order_could_name(
        stack, order_sessions, scratch_topic):
    dead_letters = f"{scratch_topic}.dead-letter"
    consumer = EventConsumer(
        name="order-test", bootstrap=stack.kafka_bootstrap, group_id=f"order-test-{uuid.uuid4()}",
        topics=[scratch_topic], subscriptions=SUBSCRIPTIONS, sessions=order_sessions,
        units=UnitsOfWork(order_sessions, ORDER), dead_letter_topic=dead_letters,
        producer=kafka_producer(stack.kafka_bootstrap),
    )
    sku = f"T-{uuid.uuid4().hex[:8]}"
    first = Envelope.wrap(SkuListed(sku=sku, name="keyboard"), source=WAREHOUSE.source).to_kafka()
    renamed = Envelope.wrap(SkuListed(sku=sku, name="Mechanical keyboard"), source=WAREHOUSE.source).to_kafka()
    too_long = Envelope.wrap(SkuListed(sku="X" * 101, name="too long"), source=WAREHOUSE.source).to_kafka()
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    for message in (first, first, renamed, too_long):  # `first` twice: a redelivery
        producer.produce(scratch_topic, key=message.key, value=message.value, headers=list(message.headers.items()))
    assert producer.flush(10) == 0

    with consuming(consumer):
        [dead] = dead_letter_headers(stack, dead_letters, 1)

        def listed():
            with order_sessions.connect() as session:
                return db.catalog_sku(session, sku)
        item = eventually(lambda: (row := listed()) is not None and row.name == "Mechanical keyboard" and row,
                          what=f"{sku} to be listed under the name announced last")

    assert item.sku == sku
    assert f"{SkuListed.event_type} rejected: cannot list sku" in dead["dlt_reason"].decode()
    with order_sessions.connect() as session:
        seen = session.execute(text("SELECT count(*) FROM inbox WHERE consumer = 'order-test'")).scalar()
    assert seen == 2, "the redelivered announcement was taken in once"
    assert place(order_sessions, OrderLine(sku, 1))
