"""Outages of the infrastructure: the services notice, say so on /ready, and carry on by themselves afterwards."""
from __future__ import annotations

import os
import signal
import time

from sqlalchemy import text

from shared.contracts.process import FULFILMENT_PROCESS
from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status
from tools.stack import camunda, kafka
from tools.stack.processes import pid_alive, read_pid

# pyzeebe's clients used to close their channel for good after ten failed calls.
FAILED_CALLS_THAT_USED_TO_CLOSE_THE_CLIENT = 10


def crash(stack, name: str) -> None:
    """SIGKILL a component's whole process group, as a power cut would."""
    pid = read_pid(stack, name)
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)
    eventually(lambda: not pid_alive(pid), what=f"{name} to die")


def readiness(client) -> dict:
    return client.get("/ready").json()


def start_attempts(service_db, order_id: str) -> int:
    with service_db("order") as db:
        return db.execute(text("SELECT attempts FROM outbox WHERE destination = 'zeebe' AND key = :id"),
                          {"id": order_id}).scalar() or 0


def age(service_db, order_id: str, hours: int) -> None:
    """As if the order and its start message had been written `hours` ago."""
    with service_db("order") as db:
        db.execute(text("UPDATE outbox SET created_at = created_at - make_interval(hours => :h) WHERE key = :id"),
                   {"h": hours, "id": order_id})
        db.execute(text("UPDATE orders SET updated_at = updated_at - make_interval(hours => :h) WHERE id = :id"),
                   {"h": hours, "id": order_id})
        db.commit()


def test_orders_go_on_by_themselves_after_camunda_is_killed_and_started_again(
        stack, order_api, warehouse_api, fresh_sku, service_db, camunda_api):
    sku = fresh_sku(3)
    # The engine's clock was pinned when its last snapshot was taken, and reset since: 8.6.0 restarts with the pin.
    two_days_ahead = int((time.time() + 2 * 24 * 3600) * 1000)
    assert camunda_api.put("/v2/clock", json={"timestamp": two_days_ahead}).status_code == 204
    pinned_at = camunda.partition(stack)["processedPosition"]
    camunda.take_snapshot(stack)
    eventually(lambda: camunda.partition(stack)["processedPositionInSnapshot"] >= pinned_at,
               what="a snapshot with the pinned clock")
    assert camunda_api.post("/v2/clock/reset", json={}).status_code == 204
    crash(stack, camunda.NAME)
    try:
        response = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 1}]))
        assert response.status_code == 201, "orders are taken while the engine is down"
        order_id = response.json()["id"]
        # A second order whose start message outlives its time to live before the engine is back.
        expired_id = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 1}])).json()["id"]
        age(service_db, expired_id, hours=2)
        eventually(lambda: any(e["what"].startswith("stalled, repaired: the order-placed message expired")
                               for e in order_api.get(f"/orders/{expired_id}").json()["timeline"]),
                   timeout=60, interval=1, what="the reconciler to send the expired start again")
        report = eventually(lambda: (r := readiness(order_api))["status"] == "NOT_READY" and r,
                            what="the order service to report the engine unreachable")
        assert report["dependencies"]["zeebe"]["up"] is False
        assert report["dependencies"]["database"]["up"] and report["dependencies"]["kafka"]["up"]
        assert readiness(warehouse_api)["dependencies"]["zeebe"]["up"] is False
        eventually(lambda: start_attempts(service_db, order_id) >= FAILED_CALLS_THAT_USED_TO_CLOSE_THE_CLIENT,
                   timeout=90, interval=1, what="the relay to fail to start the process many times")
    finally:
        camunda.start(stack)
    # Nobody restarts a service: the relay publishes the start, every worker takes jobs again.
    wait_for_status(order_api, order_id, "COMPLETED", timeout=120)
    wait_for_status(order_api, expired_id, "COMPLETED", timeout=60)
    assert camunda.partition(stack)["clock"]["modificationType"] == "None", "the engine restarted with a pinned clock"
    eventually(lambda: readiness(order_api)["status"] == "READY", what="the order service to be ready again")


def test_what_the_engine_did_while_kafka_was_down_reaches_the_records_topic_once_it_is_back(
        stack, order_api, fresh_sku, engine_records):
    """The exporter acknowledges a position to the broker only once Kafka has the record: an outage
    delays the records, loses none, and the process itself never waits for Kafka."""
    sku = fresh_sku(2)
    crash(stack, kafka.NAME)
    try:
        response = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 1}]))
        assert response.status_code == 201
        order_id = response.json()["id"]
        wait_for_status(order_api, order_id, "COMPLETED", timeout=120)
    finally:
        kafka.start(stack)
    instance = eventually(lambda: engine_records.instances_with_variable("orderId", order_id), timeout=60,
                          what=f"the records of order {order_id}'s process")[0]  # then its shipments' instances
    eventually(lambda: engine_records.process_instance_state(instance) == "COMPLETED", timeout=30,
               what="the record of its end")
    process_ends = [e for e in engine_records.visited_elements(instance) if e == FULFILMENT_PROCESS]
    assert process_ends == [FULFILMENT_PROCESS], "each record once, however often the exporter sent it"
    assert {"ReserveStock", "CompleteOrder"} <= set(engine_records.visited_elements(instance))


def test_stopping_the_stack_snapshots_the_engine_so_its_next_start_replays_nothing(stack, order_api, fresh_sku):
    # Something for the engine to process since its last snapshot.
    order_api.post("/orders", json=new_order_request(items=[{"sku": fresh_sku(1), "quantity": 1}]))
    processed = camunda.partition(stack)["processedPosition"]
    assert camunda.snapshot_before_stop(stack)
    assert camunda.partition(stack)["processedPositionInSnapshot"] >= processed
