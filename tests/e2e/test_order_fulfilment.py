"""One order through the whole real stack: HTTP, PostgreSQL, Kafka, Zeebe and back."""
from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer
from sqlalchemy import text

from shared.runtime.envelope import Envelope
from tests.conftest import INJECTED_BY_TEST, eventually, new_order_request
from tests.e2e.conftest import read_events, stages_when, wait_until_consumed


def order_status(order_api, order_id):
    return order_api.get(f"/orders/{order_id}").json()


@pytest.fixture(scope="module", autouse=True)
def enough_stock(warehouse_api):
    """Earlier runs on the same stack use stock up; these tests are about the happy path."""
    for sku in ("KB-101", "MS-202"):
        missing = 500 - warehouse_api.get(f"/stock/{sku}").json()["on_hand"]
        if missing > 0:
            response = warehouse_api.post(f"/stock/{sku}/adjustments",
                                          json={"quantity": missing, "reason": "happy-path tests"})
            assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def completed_order(order_api):
    response = order_api.post("/orders", json=new_order_request())
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    order = eventually(lambda: (o := order_status(order_api, order_id))["status"] == "COMPLETED" and o,
                       timeout=60, what=f"order {order_id} to complete")
    return order


def test_an_order_placed_over_http_reaches_completed(completed_order, order_api):
    stages = stages_when(order_api, completed_order["id"],
                         lambda st: {"RESERVED", "PACKED", "IN_DELIVERY", "DELIVERED", "COMPLETED"} <= set(st))
    assert stages[0] == "PLACED"


def test_its_process_instance_is_completed_in_zeebe(completed_order, camunda_api, engine_records):
    key = completed_order["process_instance_key"]
    assert key, "the order records the key of the process instance that completed it"
    # The order is COMPLETED when the last job commits; the engine ends the instance right after.
    eventually(lambda: engine_records.process_instance_state(key) == "COMPLETED", timeout=10,
               what=f"process instance {key} to complete")
    visited = engine_records.visited_elements(key)
    assert {"ReserveStock", "ShipAvailable", "CompleteOrder", "OrderCompleted"} <= set(visited)
    assert "AwaitStock" not in visited, "all in stock: no stock wait"
    # The engine's REST API agrees: a finished instance's variables can no longer be changed.
    response = camunda_api.put(f"/v2/element-instances/{key}/variables", json={"variables": {"probe": 1}})
    assert response.status_code == 404, response.text
    assert "no such element" in response.json()["detail"]


def test_each_service_database_holds_its_own_rows(completed_order, service_db):
    order_id = completed_order["id"]
    with service_db("order") as db:
        assert db.execute(text("SELECT status FROM orders WHERE id = :id"), {"id": order_id}).scalar() == "COMPLETED"
    with service_db("warehouse") as db:
        reserved = db.execute(text("SELECT sku, reserved, picked FROM reservations WHERE order_id = :id ORDER BY sku"),
                              {"id": order_id}).all()
        assert [tuple(r) for r in reserved] == [("KB-101", 1, 1), ("MS-202", 2, 2)]
        assert db.execute(text("SELECT count(*) FROM shipments WHERE order_id = :id"), {"id": order_id}).scalar() == 1
    with service_db("delivery") as db:
        status = db.execute(text("SELECT status FROM deliveries WHERE order_id = :id"), {"id": order_id}).scalar()
        assert status == "DELIVERED"

    def all_sent() -> bool:
        # Every event and message of this order leaves the outbox; the relay polls every 0.2 s.
        with service_db("order") as db:
            published = db.execute(text("SELECT published_at IS NOT NULL FROM outbox WHERE key = :id"),
                                   {"id": order_id}).scalars().all()
        return len(published) == 3 and all(published)  # placed event, start message, completed event
    eventually(all_sent, timeout=10, what=f"the outbox rows of {order_id} to be published")


@pytest.mark.parametrize("topic, types", [
    ("order.events", ["fulfilment.order.placed.v1", "fulfilment.order.completed.v1"]),
    ("warehouse.events", ["fulfilment.warehouse.stock-reserved.v1", "fulfilment.warehouse.shipment-packed.v1"]),
    ("delivery.events", ["fulfilment.delivery.started.v1", "fulfilment.delivery.completed.v1"]),
])
def test_the_events_are_on_kafka_as_cloudevents(completed_order, stack, topic, types):
    order_id = completed_order["id"]
    records = read_events(stack, topic, order_id, expected=len(types))
    envelopes = [Envelope.from_kafka(r.headers(), r.key(), r.value()) for r in records]
    assert [e.type for e in envelopes] == types
    for record, envelope in zip(records, envelopes, strict=True):
        headers = dict(record.headers())
        assert headers["ce_specversion"] == b"1.0"
        assert envelope.subject == order_id and envelope.correlation_id == order_id
        assert envelope.source.startswith("/fulfilment/")
        assert envelope.data["order_id"] == order_id
    assert "customer_id" not in str([e.data for e in envelopes if e.type != "fulfilment.order.placed.v1"])


def test_a_replayed_event_changes_nothing(completed_order, stack, order_api, service_db):
    order_id = completed_order["id"]
    before = order_status(order_api, order_id)
    [record] = [r for r in read_events(stack, "warehouse.events", order_id, expected=2)
                if dict(r.headers())["ce_type"] == b"fulfilment.warehouse.stock-reserved.v1"]
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    producer.produce("warehouse.events", key=record.key(), value=record.value(), headers=record.headers())
    assert producer.flush(10) == 0
    event_id = dict(record.headers())["ce_id"].decode()

    def seen_twice():
        # The consumer commits its offset after the inbox check; once the replay is behind it, it was handled.
        with service_db("order") as db:
            return db.execute(text("SELECT count(*) FROM inbox WHERE event_id = :id"), {"id": event_id}).scalar() == 1
    eventually(seen_twice, what="the original event in the order inbox")
    replay_consumed = wait_until_consumed(stack, "order-service", "warehouse.events")
    assert replay_consumed
    after = order_status(order_api, order_id)
    assert after["status"] == before["status"] == "COMPLETED"
    assert after["timeline"] == before["timeline"]


def test_a_repeated_idempotency_key_creates_no_second_order(order_api, service_db):
    key = f"test-{uuid.uuid4()}"
    body = new_order_request()
    first = order_api.post("/orders", json=body, headers={"Idempotency-Key": key})
    second = order_api.post("/orders", json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    with service_db("order") as db:
        assert db.execute(text("SELECT count(*) FROM orders WHERE idempotency_key = :k"), {"k": key}).scalar() == 1
    conflicting = order_api.post("/orders", json=new_order_request(accept_partial_shipments=False),
                                 headers={"Idempotency-Key": key})
    assert conflicting.status_code == 409
    assert "Idempotency-Key" in conflicting.json()["detail"]


@pytest.mark.parametrize("body, complaint", [
    (new_order_request(items=[]), "items"),
    (new_order_request(items=[{"sku": "KB-101", "quantity": 0}]), "items.0.quantity"),
    ({"items": [{"sku": "KB-101", "quantity": 1}]}, "shipping_address"),
    (new_order_request(shipping_address={"city": "Nowhere"}), "shipping_address.street"),
    # PostgreSQL cannot store NUL: refused at the door instead of failing inside the transaction.
    (new_order_request(items=[{"sku": "KB-\u0000101", "quantity": 1}]), "items.0.sku: must not contain control"),
    (new_order_request(customer_id="ada\nlovelace"), "customer_id: must not contain control"),
    (new_order_request(items=[{"sku": "KB-101", "quantity": True}]), "items.0.quantity"),
])
def test_an_invalid_order_gets_a_422_with_a_reason_and_creates_nothing(order_api, service_db, body, complaint):
    with service_db("order") as db:
        before = db.execute(text("SELECT count(*) FROM orders")).scalar()
    response = order_api.post("/orders", json=body)
    assert response.status_code == 422
    assert complaint in response.json()["detail"]
    with service_db("order") as db:
        assert db.execute(text("SELECT count(*) FROM orders")).scalar() == before


def test_a_malformed_event_goes_to_the_dead_letter_topic_with_its_cause(stack):
    key = f"bad-{uuid.uuid4()}"
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    producer.produce("delivery.events", key=key, value=b"{not json",
                     headers=[("ce_type", b"x"), (INJECTED_BY_TEST, b"malformed on purpose")])
    assert producer.flush(10) == 0
    [dead] = read_events(stack, "order.dead-letter", key, expected=1)
    headers = dict(dead.headers())
    assert headers["dlt_topic"] == b"delivery.events"
    assert b"not a CloudEvents" in headers["dlt_reason"]
    assert dead.value() == b"{not json"


def test_a_resent_process_start_is_refused_so_an_order_never_gets_two_processes(completed_order, stack):
    """What the outbox relay does after a crash between sending the start and marking it sent."""
    import asyncio

    from pyzeebe.errors import MessageAlreadyExistsError

    from shared.contracts.order import ORDER_PLACED
    from shared.runtime.zeebe import make_client

    order_id = completed_order["id"]

    async def resend():
        await make_client(stack.zeebe_address).publish_message(
            ORDER_PLACED.name, correlation_key=order_id, message_id=order_id,
            variables={"orderId": order_id, "items": []})

    with pytest.raises(MessageAlreadyExistsError):
        asyncio.run(resend())


def test_concurrent_requests_with_one_idempotency_key_create_one_order(order_api, service_db):
    from concurrent.futures import ThreadPoolExecutor

    key = f"race-{uuid.uuid4()}"
    body = new_order_request()
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: order_api.post("/orders", json=body, headers={"Idempotency-Key": key}),
                                  range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    with service_db("order") as db:
        assert db.execute(text("SELECT count(*) FROM orders WHERE idempotency_key = :k"), {"k": key}).scalar() == 1
