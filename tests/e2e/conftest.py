"""Fixtures and helpers for the end-to-end tests of fulfilment paths."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer
from sqlalchemy import create_engine, text

from tests.conftest import eventually, new_order_request
from tests.e2e.invariants import check_invariants
from tools import bootstrap


@pytest.fixture
def invariants(stack, service_db, engine_records):
    yield
    check_invariants(service_db, engine_records)


# The simulated couriers refuse this address (services/delivery/domain.py), so the delivery fails.
UNDELIVERABLE = {"name": "Nobody", "street": "Nowhere 1", "city": "Atlantis", "postal_code": "00000",
                 "country": "GR"}


def place(order_api, **overrides) -> str:
    response = order_api.post("/orders", json=new_order_request(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def place_and_complete(order_api, **overrides) -> dict:
    response = order_api.post("/orders", json=new_order_request(**overrides))
    assert response.status_code == 201, response.text
    return wait_for_status(order_api, response.json()["id"], "COMPLETED")


def wait_for_status(order_api, order_id: str, status: str, timeout: float = 60) -> dict:
    return eventually(lambda: (o := order_api.get(f"/orders/{order_id}").json())["status"] == status and o,
                      timeout=timeout, interval=0.1, what=f"order {order_id} to be {status}")


def stages_when(order_api, order_id: str, ready) -> list[str]:
    """The order's timeline stages once `ready(stages)` holds: the read model follows Kafka events,
    which may arrive just after the process has already completed the order."""
    return eventually(lambda: ready(stages := [e["status"] for e in order_api.get(f"/orders/{order_id}").json()
                                               ["timeline"]]) and stages,
                      timeout=10, what=f"the timeline of {order_id}")


def once_timeline_says(order_api, order_id: str, what: str, timeout: float = 30) -> dict:
    """The order as soon as an entry of its timeline says `what` (the read model follows Kafka events)."""
    def said():
        order = order_api.get(f"/orders/{order_id}").json()
        return any(what in entry["what"] for entry in order["timeline"]) and order
    return eventually(said, timeout=timeout, interval=0.1, what=f"the timeline of {order_id} to say {what!r}")


def wait_until_consumed(stack, group: str, topic: str) -> bool:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": group})
    try:
        partitions = [TopicPartition(topic, p) for p in admin.list_topics(topic).topics[topic].partitions]

        def caught_up():
            committed = consumer.committed(partitions, timeout=5)
            # A partition the group never read from has no committed offset (negative): it counts as 0.
            return all(max(c.offset, 0) == consumer.get_watermark_offsets(c, timeout=5)[1] for c in committed)
        return eventually(caught_up, what=f"consumer group {group} to catch up on {topic}")
    finally:
        consumer.close()


def shipments_of(service_db, order_id: str) -> list[tuple[int, list[tuple[str, int]]]]:
    with service_db("warehouse") as db:
        rows = db.execute(text(
            "SELECT s.shipment_no, l.sku, l.quantity FROM shipments s JOIN shipment_lines l ON l.shipment_id = s.id "
            "WHERE s.order_id = :id ORDER BY s.shipment_no, l.sku"), {"id": order_id}).all()
    shipments: dict[int, list] = {}
    for number, sku, quantity in rows:
        shipments.setdefault(number, []).append((sku, quantity))
    return sorted(shipments.items())


def production_of(service_db, order_id: str) -> list[tuple[str, int, str]]:
    with service_db("factory") as db:
        return [tuple(r) for r in db.execute(text(
            "SELECT sku, quantity, status FROM production_orders WHERE order_id = :id ORDER BY sku"),
            {"id": order_id}).all()]


@contextmanager
def warehouse_packing_held_back(service_db, order_id: str):
    """Packing for the order waits while this is open, as when its job is stuck.

    Holds the per-order lock the warehouse takes before it picks (`shared.runtime.db.serialise_on`);
    stock arriving for the order is still allocated, which takes no such lock.
    """
    with service_db("warehouse") as db:
        db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": order_id})
        yield  # the transaction's rollback on close releases the lock


def delivery_of(service_db, order_id: str):
    """The order's (first) delivery row, or None before the delivery command ran."""
    with service_db("delivery") as db:
        return db.execute(text("SELECT * FROM deliveries WHERE order_id = :id"), {"id": order_id}).first()


def wait_until_awaiting_delivery(engine_records, order_id: str) -> None:
    """The shipment process waits for delivery-completed: its reminder and deadline run from now on,
    so moving the engine's clock before this point would leave them far ahead of it."""
    eventually(lambda: any("AwaitDelivery" in engine_records.visited_elements(instance, "ELEMENT_ACTIVATED")
                           for instance in engine_records.instances_with_variable("orderId", order_id)),
               what=f"the shipment of {order_id} to wait for its delivery")


class DeliveryLocks:
    """A transaction of the test's own in the Delivery database, holding locks the service's work waits for."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.connection = engine.connect()
        self.connection.begin()

    def hold_order(self, order_id: str) -> None:
        """The lock every command about the order takes first (shared.runtime.db.serialise_on)."""
        self.connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": order_id})

    def hold_delivery(self, order_id: str):
        """The order's delivery row: the courier skips it (it cannot deliver) and a redispatch waits for it."""
        return self.connection.execute(text("SELECT * FROM deliveries WHERE order_id = :id FOR UPDATE"),
                                       {"id": order_id}).one()

    def waiting(self) -> int:
        """Sessions of the database waiting for a lock: one per run of a job held up by this transaction
        (a second run that wants the same row waits behind the first, not behind this transaction)."""
        return self.connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0")).scalar()

    def release(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def delivery_locks(stack):
    engine = create_engine(stack.database_url("delivery"))
    locks = DeliveryLocks(engine)
    yield locks
    locks.close()
    engine.dispose()


def delivered_shipments(service_db, order_id: str) -> int:
    with service_db("delivery") as db:
        return db.execute(text("SELECT count(*) FROM deliveries WHERE order_id = :id AND status = 'DELIVERED'"),
                          {"id": order_id}).scalar()


def read_events(stack, topic: str, key: str, expected: int, timeout: float = 20, where=lambda record: True) -> list:
    """The records with one key (an order id, mostly) on a topic that `where` accepts, read from the start
    with a throw-away group."""
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    found = []
    try:
        def poll():
            message = consumer.poll(0.5)
            if message is not None and not message.error() and message.key() == key.encode() and where(message):
                found.append(message)
            return len(found) >= expected
        eventually(poll, timeout=timeout, interval=0, what=f"{expected} records of {key} on {topic}")
    finally:
        consumer.close()
    return found


@contextmanager
def deployed_variant(stack, edit: Callable[[str, str], str]) -> Iterator[dict[str, int]]:
    """Deploy every file of bpmn/ as `edit(file name, text)` returns it, in one deployment (the links between them
    are pinned to their deployment), and yield each resource's version; afterwards deploy bpmn/ as it is again,
    so the tests that follow start orders on the repo's processes."""
    try:
        yield bootstrap.deploy_edited(stack.zeebe_address, edit)
    finally:
        bootstrap.deploy_bpmn(stack.zeebe_address)
