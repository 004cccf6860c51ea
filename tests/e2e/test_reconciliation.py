"""The reconciler: an order that stopped moving is reported once, with what is known about why."""
from __future__ import annotations

from sqlalchemy import text

from tests.conftest import eventually, new_order_request


def test_a_stalled_order_is_reported_on_its_timeline_and_in_the_stuck_list(order_api, login, service_db,
                                                                         engine_records, sku_the_warehouse_lacks):
    # Input the warehouse refuses: an incident at once, and the order stands still at PLACED.
    order_id = order_api.post("/orders", json=new_order_request(
        items=[{"sku": sku_the_warehouse_lacks(), "quantity": 1}])).json()["id"]
    eventually(lambda: engine_records.instances_with_variable("orderId", order_id), what="the process")
    with service_db("order") as db:  # as if that had been an hour ago
        db.execute(text("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = :id"), {"id": order_id})
        db.commit()
    [entry] = eventually(lambda: [e for e in order_api.get(f"/orders/{order_id}").json()["timeline"]
                                  if e["what"].startswith("stalled")], timeout=60, interval=1,
                         what="the reconciler to report the order")
    assert entry["what"].startswith("stalled: no progress for 60 min") and "incident" in entry["what"]
    assert entry["status"] == "PLACED"
    [stall] = [s for s in order_api.get("/stuck-orders", auth=login()).json() if s["order_id"] == order_id]
    assert stall["status"] == "PLACED" and stall["idle_seconds"] >= 3600


def test_an_order_waiting_for_stock_is_not_reported_as_stalled(order_api, login, fresh_sku, service_db):
    order_id = order_api.post("/orders", json=new_order_request(
        accept_partial_shipments=False, items=[{"sku": fresh_sku(0), "quantity": 1}])).json()["id"]
    eventually(lambda: order_api.get(f"/orders/{order_id}").json()["status"] == "AWAITING_STOCK",
               what="the order to wait for stock")
    with service_db("order") as db:
        db.execute(text("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = :id"), {"id": order_id})
        db.commit()
    assert order_id not in [s["order_id"] for s in order_api.get("/stuck-orders", auth=login()).json()]


def test_an_order_whose_process_was_ended_behind_its_back_is_reported_as_disagreeing(
        order_api, login, service_db, camunda_api, engine_records, sku_the_warehouse_lacks):
    # Input the warehouse refuses: an incident, and the order stands at PLACED.
    order_id = order_api.post("/orders", json=new_order_request(
        items=[{"sku": sku_the_warehouse_lacks(), "quantity": 1}])).json()["id"]
    eventually(lambda: engine_records.open_incidents(
        (engine_records.instances_with_variable("orderId", order_id) or [0])[0]), what="the incident")
    instance = engine_records.instances_with_variable("orderId", order_id)[0]
    # Someone cancels the process in the engine itself, not through the order: the order cannot know.
    assert camunda_api.post(f"/v2/process-instances/{instance}/cancellation", json={}).status_code == 204
    eventually(lambda: engine_records.process_instance_state(instance) == "TERMINATED", what="the instance to end")
    with service_db("order") as db:
        db.execute(text("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = :id"), {"id": order_id})
        db.commit()
    [entry] = eventually(lambda: [e for e in order_api.get(f"/orders/{order_id}").json()["timeline"]
                                  if e["what"].startswith("stalled")], timeout=60, interval=1,
                         what="the reconciler to report the order")
    assert "no live process instance: its process ended (TERMINATED) while the order reads PLACED" in entry["what"]
    [stall] = [s for s in order_api.get("/stuck-orders", auth=login()).json() if s["order_id"] == order_id]
    assert "status disagrees with the process" in stall["diagnosis"]
    # What the operator does about it: abort the order, which undoes its work and ends it.
    assert order_api.post(f"/orders/{order_id}/abort", json={"reason": "its process was cancelled in the engine"},
                          auth=login()).status_code == 202
    eventually(lambda: order_api.get(f"/orders/{order_id}").json()["status"] == "CANCELLED", timeout=60,
               what="the aborted order to end")
