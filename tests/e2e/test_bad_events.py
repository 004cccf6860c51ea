"""Events the Order read model cannot take in are dead-lettered with the reason, and the consumer
moves on: none of them may be retried forever, holding up every later event of its partition."""
from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from shared.contracts.base import Line
from shared.contracts.delivery import SERVICE as DELIVERY
from shared.contracts.delivery import DeliveryStarted
from shared.contracts.registry import ORDER
from shared.contracts.warehouse import SERVICE as WAREHOUSE
from shared.contracts.warehouse import ShipmentPacked, StockReserved
from shared.runtime.envelope import Envelope
from tests.conftest import INJECTED_BY_TEST, new_order_request
from tests.e2e.conftest import place_and_complete, read_events, stages_when, wait_for_status
from tools.orders import wait_until_orderable

pytestmark = pytest.mark.usefixtures("invariants")


@pytest.fixture(scope="module")
def completed_order(order_api, warehouse_api) -> dict:
    """An order of 3 units of a SKU of its own, completed, its read model settled."""
    sku = f"T-bad-events-{uuid.uuid4().hex[:8]}"
    assert warehouse_api.put(f"/stock/{sku}", json={"on_hand": 1000, "name": "test item"}).status_code == 201
    wait_until_orderable(order_api, [sku])
    order_id = place_and_complete(order_api, items=[{"sku": sku, "quantity": 3}])["id"]
    stages_when(order_api, order_id, lambda stages: "DELIVERED" in stages)
    return order_api.get(f"/orders/{order_id}").json()


def dead_letter_of(stack, event, source: str) -> dict[str, bytes]:
    """Publish `event` as its producer would; the headers of the dead letter the Order service makes of it."""
    message = Envelope.wrap(event, source=source).to_kafka()
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    producer.produce(DELIVERY.events_topic if source == DELIVERY.source else WAREHOUSE.events_topic,
                     key=message.key, value=message.value,
                     headers=[*message.headers.items(), (INJECTED_BY_TEST, b"the order read model must refuse it")])
    assert producer.flush(10) == 0
    [dead] = read_events(stack, ORDER.dead_letter_topic, message.key, expected=1,
                         where=lambda record: dict(record.headers())["ce_id"] == message.headers["ce_id"])
    return dict(dead.headers())


def bad_events(order_id: str) -> dict[str, tuple]:
    return {
        "over-long shipment id": (DeliveryStarted(order_id=order_id, delivery_id="d-1", shipment_id="s" * 300,
                                                  courier="test"), DELIVERY.source, "shipment id"),
        "NUL in the order id": (DeliveryStarted(order_id=f"{order_id[:8]}\x00", delivery_id="d-1",
                                                shipment_id="s-1", courier="test"), DELIVERY.source, "order id"),
        "unknown order": (DeliveryStarted(order_id="no-such-order", delivery_id="d-1", shipment_id="s-1",
                                          courier="test"), DELIVERY.source, "no order with id no-such-order"),
        "unknown reservation outcome": (StockReserved(order_id=order_id, outcome="plenty", lines=[]),
                                        WAREHOUSE.source, "unknown reservation outcome 'plenty'"),
        "more units shipped than ordered": (
            ShipmentPacked(order_id=order_id, shipment_id="s-1", shipment_no=3,
                           lines=[Line(sku="T-bad-events", quantity=2_000_000_000)]),
            WAREHOUSE.source, "would carry"),
    }


@pytest.mark.parametrize("case", ["over-long shipment id", "NUL in the order id", "unknown order",
                                  "unknown reservation outcome", "more units shipped than ordered"])
def test_an_event_the_read_model_cannot_take_in_is_dead_lettered_with_its_reason(
            case, completed_order, stack, order_api):
    event, source, reason = bad_events(completed_order["id"])[case]
    headers = dead_letter_of(stack, event, source)
    assert reason in headers["dlt_reason"].decode()
    assert headers["dlt_consumer"] == ORDER.name.encode()
    after = order_api.get(f"/orders/{completed_order['id']}").json()
    assert (after["status"], after["timeline"]) == ("COMPLETED", completed_order["timeline"])


def test_a_backorder_of_many_long_skus_is_on_the_timeline_in_full(order_api, fresh_sku, paused_production):
    """The timeline text names every backordered line, however long that gets."""
    skus = [fresh_sku(0, length=90) for _ in range(4)]
    response = order_api.post("/orders", json=new_order_request(items=[{"sku": s, "quantity": 2} for s in skus]))
    order = wait_for_status(order_api, response.json()["id"], "AWAITING_STOCK")
    [entry] = [e for e in order["timeline"] if e["status"] == "AWAITING_STOCK"]
    assert len(entry["what"]) > 200
    assert all(f"2x {sku}" in entry["what"] for sku in skus)
