"""Every way an order can be fulfilled: all in stock, partly, nothing in stock, no partial shipments."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import (
    delivered_shipments,
    once_timeline_says,
    place_and_complete,
    production_of,
    shipments_of,
    stages_when,
    wait_for_status,
    warehouse_packing_held_back,
)

pytestmark = pytest.mark.usefixtures("invariants")


def test_everything_in_stock_ships_at_once_in_one_shipment(order_api, fresh_sku, service_db, engine_records):
    sku = fresh_sku(5)
    order = place_and_complete(order_api, items=[{"sku": sku, "quantity": 3}])
    assert shipments_of(service_db, order["id"]) == [(1, [(sku, 3)])]
    assert production_of(service_db, order["id"]) == []
    assert "AwaitStock" not in engine_records.visited_elements(order["process_instance_key"])


def test_a_partly_available_order_ships_what_is_there_and_the_rest_after_replenishment(
        order_api, fresh_sku, service_db, engine_records):
    in_stock, short = fresh_sku(4), fresh_sku(1)
    order = place_and_complete(order_api, items=[{"sku": in_stock, "quantity": 2}, {"sku": short, "quantity": 3}])
    assert shipments_of(service_db, order["id"]) == [
        (1, sorted([(in_stock, 2), (short, 1)])),
        (2, [(short, 2)]),
    ]
    assert production_of(service_db, order["id"]) == [(short, 2, "PRODUCED")]
    assert delivered_shipments(service_db, order["id"]) == 2
    stages = stages_when(order_api, order["id"], lambda st: st.count("DELIVERED") == 2)
    assert stages.index("AWAITING_STOCK") < stages.index("PACKED")
    assert stages.count("PACKED") == 2
    eventually(lambda: {"ShipAvailable", "AwaitStock", "ShipBackorder"}
               <= set(engine_records.visited_elements(order["process_instance_key"])), timeout=10,
               what="the process to record both shipments")


def test_an_order_is_delivered_only_when_its_backordered_part_is_delivered_too(
        order_api, fresh_sku, paused_production, service_db):
    """The first shipment is delivered, the backorder arrives, but its shipment is not packed yet."""
    in_stock, short = fresh_sku(4), fresh_sku(1)
    response = order_api.post("/orders", json=new_order_request(
        items=[{"sku": in_stock, "quantity": 2}, {"sku": short, "quantity": 3}]))
    order_id = response.json()["id"]
    wait_for_status(order_api, order_id, "PARTIALLY_DELIVERED")  # 3 of 5 units delivered, 2 backordered
    with warehouse_packing_held_back(service_db, order_id):
        paused_production()  # the line runs again: the backordered units are made and allocated
        order = once_timeline_says(order_api, order_id, "backordered stock arrived and is reserved")
        assert order["status"] == "PARTIALLY_DELIVERED", order["timeline"]
        assert shipments_of(service_db, order_id) == [(1, sorted([(in_stock, 2), (short, 1)]))]
    wait_for_status(order_api, order_id, "COMPLETED")
    assert delivered_shipments(service_db, order_id) == 2


def test_nothing_in_stock_waits_for_the_factory_then_ships_everything(order_api, fresh_sku, service_db):
    sku = fresh_sku(0)
    order = place_and_complete(order_api, items=[{"sku": sku, "quantity": 2}])
    assert shipments_of(service_db, order["id"]) == [(2, [(sku, 2)])]
    assert production_of(service_db, order["id"]) == [(sku, 2, "PRODUCED")]


def test_an_order_that_accepts_no_partial_shipment_waits_and_ships_once(order_api, fresh_sku, service_db):
    in_stock, short = fresh_sku(4), fresh_sku(1)
    order = place_and_complete(order_api, accept_partial_shipments=False,
                               items=[{"sku": in_stock, "quantity": 2}, {"sku": short, "quantity": 3}])
    assert shipments_of(service_db, order["id"]) == [(2, sorted([(in_stock, 2), (short, 3)]))]
    assert delivered_shipments(service_db, order["id"]) == 1


def test_one_arrival_wakes_every_order_it_covers_but_a_partial_arrival_wakes_nobody(
        order_api, fresh_sku, service_db, stack):
    """Two orders wait for the same SKU; the first production covers one, and only that one moves on."""
    sku = fresh_sku(0)
    first = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 2}])).json()["id"]
    eventually(lambda: production_of(service_db, first), what="the first replenishment request")
    second = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 1}])).json()["id"]
    for order_id in (first, second):
        eventually(lambda o=order_id: order_api.get(f"/orders/{o}").json()["status"] == "COMPLETED",
                   timeout=60, what=f"order {order_id} to complete")
    with service_db("warehouse") as db:
        allocated = db.execute(text("SELECT order_id, quantity, allocated, status FROM backorders WHERE sku = :s "
                                    "ORDER BY created_at"), {"s": sku}).all()
    assert [tuple(r)[1:] for r in allocated] == [(2, 2, "ALLOCATED"), (1, 1, "ALLOCATED")]
