"""The hard cases: cancellation at every stage, a courier who refuses, deadlines that escalate to a person."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from shared.contracts.order import OrderCancellationRefused
from shared.contracts.warehouse import STOCK_ALLOCATED
from tests.conftest import eventually
from tests.e2e.conftest import (
    UNDELIVERABLE,
    delivery_of,
    place,
    production_of,
    read_events,
    shipments_of,
    wait_for_status,
    wait_until_awaiting_delivery,
)

pytestmark = pytest.mark.usefixtures("invariants")

DAY = 24 * 3600

def cancel(order_api, order_id: str):
    return order_api.post(f"/orders/{order_id}/cancel")


def instances_of(engine_records, order_id: str) -> list[int]:
    """The order's process instance first, then its shipment sub-processes."""
    return eventually(lambda: engine_records.instances_with_variable("orderId", order_id),
                      what=f"the process of order {order_id}")


def visited(engine_records, order_id: str) -> set[str]:
    return {element for instance in engine_records.instances_with_variable("orderId", order_id)
            for element in engine_records.visited_elements(instance)}


def assert_visited(engine_records, order_id: str, elements: set[str]) -> None:
    """The engine reports a job's element completed just after the worker's own commit; allow for that."""
    eventually(lambda: elements <= visited(engine_records, order_id), timeout=10,
               what=f"the process of {order_id} to pass {sorted(elements)}")


def wait_until_awaiting_stock(engine_records, order_id: str) -> None:
    """The process waits for stock-allocated, its timers set: only now does moving the engine clock fire them.

    The order's status says AWAITING_STOCK as soon as the reservation is made, before the allocation check
    that comes ahead of the wait has run.
    """
    [instance, *_] = instances_of(engine_records, order_id)
    eventually(lambda: "AwaitStock" in engine_records.visited_elements(instance, "ELEMENT_ACTIVATED"),
               what=f"the process of {order_id} to wait for stock")


def warehouse_rows(service_db, sql: str, order_id: str) -> list[tuple]:
    with service_db("warehouse") as db:
        return [tuple(r) for r in db.execute(text(sql), {"id": order_id}).all()]


def stock_of(warehouse_api, sku: str) -> tuple[int, int]:
    row = warehouse_api.get(f"/stock/{sku}").json()
    return row["on_hand"], row["reserved"]


def open_user_task(engine_records, order_id: str, element_id: str):
    def find():
        for instance in engine_records.instances_with_variable("orderId", order_id):
            for task in engine_records.open_user_tasks(instance):
                if task.element_id == element_id:
                    return task
        return None
    return eventually(find, what=f"user task {element_id} for order {order_id}")


def complete_user_task(camunda_api, task, decision: str) -> None:
    response = camunda_api.post(f"/v2/user-tasks/{task.key}/completion", json={"variables": {"decision": decision}})
    assert response.status_code == 204, response.text


# --- cancellation ----------------------------------------------------------------------------

def test_cancelling_before_stock_is_reserved_leaves_nothing_reserved(
        order_api, fresh_sku, database_outage, service_db, engine_records):
    sku = fresh_sku(5)
    end_outage = database_outage("warehouse")  # reservation cannot happen yet
    order_id = place(order_api, items=[{"sku": sku, "quantity": 2}])
    [instance] = instances_of(engine_records, order_id)
    response = cancel(order_api, order_id)
    assert response.status_code == 202 and response.json()["result"] == "cancellation requested"
    eventually(lambda: "ReserveStock" in engine_records.visited_elements(instance, "ELEMENT_TERMINATED"),
               what="the cancellation to interrupt the reservation")
    end_outage()
    order = wait_for_status(order_api, order_id, "CANCELLED")
    assert warehouse_rows(service_db, "SELECT sku, reserved FROM reservations WHERE order_id = :id", order_id) == []
    assert_visited(engine_records, order_id, {"CancelRequested", "CancelDeliveries", "ReleaseStock", "CancelOrder"})
    assert "ShipAvailable" not in visited(engine_records, order_id)
    assert "order cancelled; stock returned" in [e["what"] for e in order["timeline"]]


def test_cancelling_while_awaiting_stock_withdraws_the_backorder_and_the_unstarted_production(
        order_api, fresh_sku, paused_production, service_db, warehouse_api):
    in_stock, short = fresh_sku(3), fresh_sku(0)
    order_id = place(order_api, accept_partial_shipments=False,
                     items=[{"sku": in_stock, "quantity": 2}, {"sku": short, "quantity": 4}])
    wait_for_status(order_api, order_id, "AWAITING_STOCK")
    eventually(lambda: production_of(service_db, order_id), what="the replenishment request")
    response = cancel(order_api, order_id)
    assert response.status_code == 202
    assert response.json()["cancellation"]["outcome"] == "pending"
    assert order_api.get(f"/orders/{order_id}").json()["cancellation"]["outcome"] == "pending"
    cancellation = wait_for_status(order_api, order_id, "CANCELLED")["cancellation"]
    assert (cancellation["outcome"], cancellation["reason"]) == ("cancelled", None)
    assert cancellation["requested_at"] <= cancellation["decided_at"]
    assert warehouse_rows(service_db, "SELECT sku, status FROM backorders WHERE order_id = :id", order_id) == [
        (short, "WITHDRAWN")]
    eventually(lambda: production_of(service_db, order_id) == [(short, 4, "WITHDRAWN")],
               what="the factory to withdraw the unstarted production")
    assert stock_of(warehouse_api, in_stock) == (3, 0), "the reserved units are free again"


def test_cancelling_after_packing_returns_the_shipment_to_stock(
        order_api, fresh_sku, database_outage, service_db, warehouse_api):
    sku = fresh_sku(5)
    end_outage = database_outage("delivery")  # packed, but the delivery cannot start yet
    order_id = place(order_api, items=[{"sku": sku, "quantity": 2}])
    wait_for_status(order_api, order_id, "PACKED")
    assert cancel(order_api, order_id).status_code == 202
    end_outage()
    wait_for_status(order_api, order_id, "CANCELLED")
    assert warehouse_rows(service_db, "SELECT shipment_no, status FROM shipments WHERE order_id = :id",
                          order_id) == [(1, "RETURNED")]
    assert stock_of(warehouse_api, sku) == (5, 0)


def test_cancelling_after_the_delivery_started_calls_the_delivery_back(
        order_api, fresh_sku, service_db, warehouse_api, delivery_api):
    sku = fresh_sku(5)
    order_id = place(order_api, items=[{"sku": sku, "quantity": 1}])
    wait_for_status(order_api, order_id, "IN_DELIVERY")
    assert cancel(order_api, order_id).status_code == 202
    wait_for_status(order_api, order_id, "CANCELLED")
    assert [d["status"] for d in delivery_api.get("/deliveries", params={"order_id": order_id}).json()] == [
        "CANCELLED"]
    assert stock_of(warehouse_api, sku) == (5, 0)


def test_a_delivered_order_cannot_be_cancelled_and_the_refusal_is_on_the_order(order_api, fresh_sku, stack):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    wait_for_status(order_api, order_id, "COMPLETED")
    response = cancel(order_api, order_id)
    assert response.status_code == 409
    assert "delivered" in response.json()["detail"]
    order = order_api.get(f"/orders/{order_id}").json()
    assert order["status"] == "COMPLETED"
    assert order["cancellation"]["outcome"] == "refused" and "delivered" in order["cancellation"]["reason"]
    assert f"cancellation refused: {order['cancellation']['reason']}" in [e["what"] for e in order["timeline"]]
    assert_cancellation_refused_published(stack, order_id, order["cancellation"]["reason"])

    again = cancel(order_api, order_id)
    assert (again.status_code, again.json()["detail"]) == (409, response.json()["detail"])
    assert order_api.get(f"/orders/{order_id}").json()["timeline"] == order["timeline"], "asking again adds nothing"


def test_a_cancellation_that_loses_the_race_with_the_last_delivery_is_refused_when_the_order_completes(
        order_api, fresh_sku, service_db, engine_records, stack):
    """The request is taken while the order does not read delivered yet, but the process has already
    passed the work a cancellation can interrupt: the order completes, and says the request lost."""
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    # Hold the courier so that, once the order reads IN_DELIVERY, the read model has nothing left to
    # take in for this order before the test takes its row: on a slow machine the courier could
    # otherwise deliver first, and the consumer would queue for the row ahead of the cancel request.
    eventually(lambda: delivery_of(service_db, order_id), interval=0.05, what=f"the delivery of {order_id}")
    courier_due_in(service_db, order_id, 3600)
    instance = instances_of(engine_records, order_id)[0]
    wait_for_status(order_api, order_id, "IN_DELIVERY")
    with service_db("order") as db, ThreadPoolExecutor(max_workers=1) as pool:
        # Hold the order's row while the process runs: the cancel request, then the read model's
        # consumer and the process's last job queue behind it, and get it in that order.
        db.execute(text("SELECT 1 FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})
        request = pool.submit(order_api.post, f"/orders/{order_id}/cancel", timeout=60)  # waits as long as we hold
        eventually(lambda: row_lock_waiters(service_db) >= 1, what="the cancel request to wait for the order")
        courier_due_in(service_db, order_id, 0)
        eventually(lambda: "CompleteOrder" in engine_records.visited_elements(instance, "ELEMENT_ACTIVATED"),
                   what="the delivery to complete and the process to reach its last step")
        eventually(lambda: row_lock_waiters(service_db) >= 3,
                   what="the read model's consumer and the complete-order job to wait for the order too")
        db.rollback()
        response = request.result(timeout=10)
    assert response.status_code == 202, response.text
    assert response.json()["cancellation"]["outcome"] == "pending"
    order = wait_for_status(order_api, order_id, "COMPLETED")
    assert order["cancellation"]["outcome"] == "refused"
    assert "delivered before the cancellation" in order["cancellation"]["reason"]
    whats = [e["what"] for e in order["timeline"]]
    refusal = f"cancellation refused: {order['cancellation']['reason']}"
    requested = next(i for i, w in enumerate(whats) if w.startswith("cancellation requested by "))
    assert requested < whats.index("order completed") < whats.index(refusal)
    assert_cancellation_refused_published(stack, order_id, order["cancellation"]["reason"])
    assert "CancelRequested" not in visited(engine_records, order_id)


def row_lock_waiters(service_db) -> int:
    with service_db("order") as db:
        return db.execute(text("SELECT count(*) FROM pg_stat_activity "
                               "WHERE wait_event_type = 'Lock' AND datname = current_database()")).scalar()


def assert_cancellation_refused_published(stack, order_id: str, reason: str) -> None:
    [record] = read_events(stack, "order.events", order_id, expected=1, where=lambda r: dict(r.headers())[
        "ce_type"] == OrderCancellationRefused.event_type.encode())
    assert json.loads(record.value()) == {"order_id": order_id, "reason": reason}


def test_cancelling_an_unknown_order_is_a_404(order_api):
    assert cancel(order_api, "no-such-order").status_code == 404


# --- courier failure -------------------------------------------------------------------------

def test_a_refused_delivery_returns_the_goods_to_stock_and_marks_the_order(
        order_api, fresh_sku, service_db, warehouse_api, engine_records):
    sku = fresh_sku(4)
    order_id = place(order_api, items=[{"sku": sku, "quantity": 3}], shipping_address=UNDELIVERABLE)
    order = wait_for_status(order_api, order_id, "DELIVERY_FAILED")
    assert warehouse_rows(service_db, "SELECT shipment_no, status FROM shipments WHERE order_id = :id",
                          order_id) == [(1, "RETURNED")]
    assert stock_of(warehouse_api, sku) == (4, 0)
    assert_visited(engine_records, order_id, {"CourierRefused", "CompensatePicking", "ReturnShipment", "FailOrder"})
    assert any("delivery failed" in e["what"] for e in order["timeline"])
    assert cancel(order_api, order_id).status_code == 409


# --- escalation ------------------------------------------------------------------------------

@pytest.mark.parametrize("decision, final_status", [("continue", "COMPLETED"), ("cancel", "CANCELLED")])
def test_a_late_backorder_is_expedited_then_handed_to_a_person(
        decision, final_status, order_api, fresh_sku, paused_production, engine_clock, camunda_api,
        engine_records, service_db, factory_api):
    sku = fresh_sku(0)
    order_id = place(order_api, items=[{"sku": sku, "quantity": 2}])
    wait_for_status(order_api, order_id, "AWAITING_STOCK")
    eventually(lambda: production_of(service_db, order_id), what="the replenishment request")
    wait_until_awaiting_stock(engine_records, order_id)

    engine_clock(1 * DAY + 60)  # past the first deadline: expedite, keep waiting
    eventually(lambda: warehouse_rows(service_db, "SELECT expedited FROM backorders WHERE order_id = :id",
                                      order_id) == [(True,)], what="the backorder to be flagged")
    eventually(lambda: [p["expedited"] for p in factory_api.get("/production-orders").json()
                        if p["order_id"] == order_id] == [True], what="the factory to expedite")
    assert order_api.get(f"/orders/{order_id}").json()["status"] == "AWAITING_STOCK"

    engine_clock(3 * DAY + 60)  # past the second deadline: a person decides
    task = open_user_task(engine_records, order_id, "DecideLateStock")
    complete_user_task(camunda_api, task, decision)
    if decision == "continue":
        paused_production()  # the line runs again; the order goes on as if nothing happened
    wait_for_status(order_api, order_id, final_status)
    assert_visited(engine_records, order_id, {"StockReminder", "ExpediteBackorder", "StockDeadline", "DecideLateStock"})


def published_stock_allocated(engine_records, order_id: str) -> int | None:
    """The key of the stock-allocated message the engine received for the order, if any."""
    return next((r["key"] for r in engine_records.records("MESSAGE") if r["intent"] == "PUBLISHED"
                 and r["value"]["name"] == STOCK_ALLOCATED.name and r["value"]["correlationKey"] == order_id), None)


def message_expired(engine_records, message_key: int) -> bool:
    # The engine's EXPIRED record names the message by its key only (name and correlation key are empty).
    return any(r["intent"] == "EXPIRED" and r["key"] == message_key for r in engine_records.records("MESSAGE"))


def test_stock_allocated_while_a_person_decides_still_ships_the_rest_after_its_message_expired(
        order_api, fresh_sku, paused_production, engine_clock, camunda_api, engine_records, service_db,
        warehouse_api):
    sku = fresh_sku(0)
    order_id = place(order_api, items=[{"sku": sku, "quantity": 2}])
    wait_for_status(order_api, order_id, "AWAITING_STOCK")
    eventually(lambda: production_of(service_db, order_id), what="the replenishment request")
    wait_until_awaiting_stock(engine_records, order_id)

    engine_clock(3 * DAY + 60)  # past the stock deadline: the process stops waiting for the message, a person decides
    task = open_user_task(engine_records, order_id, "DecideLateStock")
    # While the person thinks, an operator finds the units: they go to the backorder and stock-allocated is sent.
    found = warehouse_api.post(f"/stock/{sku}/adjustments", json={"quantity": 2, "reason": "found in aisle 3"})
    assert found.status_code == 201 and found.json()["to_backorders"] == 2, found.text
    message = eventually(lambda: published_stock_allocated(engine_records, order_id),
                         what="stock-allocated to reach the engine")

    engine_clock(3 * DAY + 60 + STOCK_ALLOCATED.ttl.total_seconds() + 3600)  # the answer comes after the TTL
    eventually(lambda: message_expired(engine_records, message), timeout=120,
               what="the engine to drop the expired stock-allocated message")
    complete_user_task(camunda_api, task, "continue")
    wait_for_status(order_api, order_id, "COMPLETED")
    [instance, *_] = instances_of(engine_records, order_id)
    assert engine_records.visited_elements(instance).count("CheckAllocation") == 2
    assert engine_records.visited_elements(instance, "ELEMENT_ACTIVATED").count("AwaitStock") == 1, \
        "the process did not wait for the message a second time"
    assert shipments_of(service_db, order_id) == [(2, [(sku, 2)])]


def courier_due_in(service_db, order_id: str, seconds: float) -> None:
    """The courier on the order's delivery arrives `seconds` from now (the simulated one takes 3 s)."""
    with service_db("delivery") as db:
        moved = db.execute(text("UPDATE deliveries SET due_at = now() + make_interval(secs => :s) "
                                "WHERE order_id = :id AND status = 'DISPATCHED'"), {"s": seconds, "id": order_id})
        db.commit()
    assert moved.rowcount == 1, "the courier delivered before the test could hold it up"


@pytest.mark.parametrize("decision, final_status", [("continue", "COMPLETED"), ("cancel", "CANCELLED")])
def test_a_late_delivery_is_redispatched_then_handed_to_a_person(
        decision, final_status, order_api, fresh_sku, engine_clock, camunda_api, engine_records, service_db):
    order_id = place(order_api, items=[{"sku": fresh_sku(3), "quantity": 1}])
    first_courier = eventually(lambda: delivery_of(service_db, order_id), interval=0.05,
                               what=f"the delivery of {order_id}").courier
    courier_due_in(service_db, order_id, 3600)  # a slow courier: the delivery runs late
    wait_until_awaiting_delivery(engine_records, order_id)

    engine_clock(2 * DAY + 60)  # past the first deadline: another courier takes over
    eventually(lambda: delivery_of(service_db, order_id).courier != first_courier, interval=0.05,
               what="the delivery to be re-dispatched")
    courier_due_in(service_db, order_id, 3600)  # and is late too
    engine_clock(5 * DAY + 60)  # past the second deadline: a person decides
    task = open_user_task(engine_records, order_id, "DecideOverdueDelivery")
    complete_user_task(camunda_api, task, decision)
    if decision == "continue":
        courier_due_in(service_db, order_id, 0)  # the parcel arrives after all
    wait_for_status(order_api, order_id, final_status)
    assert_visited(engine_records, order_id,
                   {"DeliveryReminder", "Redispatch", "DeliveryDeadline", "DecideOverdueDelivery"})


def delivered_message_sent(service_db, shipment_id: str) -> bool:
    """The Delivery service's outbox handed delivery-completed for the shipment to the engine."""
    with service_db("delivery") as db:
        return db.execute(text("SELECT published_at IS NOT NULL FROM outbox "
                               "WHERE destination = 'zeebe' AND key = :key"), {"key": shipment_id}).scalar()


def test_a_delivery_completed_while_a_person_decides_still_completes_the_shipment_after_its_message_expired(
        order_api, fresh_sku, service_db, delivery_locks, engine_clock, camunda_api, engine_records):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    eventually(lambda: delivery_of(service_db, order_id), interval=0.05, what=f"the delivery of {order_id}")
    assert delivery_locks.hold_delivery(order_id).status == "DISPATCHED", "the courier finished first"
    wait_until_awaiting_delivery(engine_records, order_id)

    engine_clock(5 * DAY + 60)  # past the deadline: the process stops waiting for the message, a person decides
    task = open_user_task(engine_records, order_id, "DecideOverdueDelivery")
    delivery_locks.release()  # the courier delivers while the person thinks
    shipment_id = eventually(lambda: (d := delivery_of(service_db, order_id)).status == "DELIVERED" and d.shipment_id,
                             what="the courier to deliver")
    eventually(lambda: delivered_message_sent(service_db, shipment_id), what="delivery-completed to reach the engine")

    # The answer comes two hours later: the message's one-hour TTL is over, the engine correlates it no more.
    engine_clock(5 * DAY + 60 + 2 * 3600)
    complete_user_task(camunda_api, task, "continue")
    wait_for_status(order_api, order_id, "COMPLETED")
    [shipment] = [i for i in instances_of(engine_records, order_id)
                  if "ShipmentRequested" in engine_records.visited_elements(i)]
    passed = engine_records.visited_elements(shipment)
    assert passed.count("CheckDelivered") == 2 and "AwaitDelivery" not in passed, passed
