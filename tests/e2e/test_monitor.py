"""The process monitor on the real stack: it follows the engine's records on Kafka, and retries, cancels and
completes through the engine's REST API."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.contracts.process import DECISION_CHOICES, DECISION_FORM
from shared.contracts.warehouse import ReserveStock
from shared.runtime.zeebe import make_client
from tests.conftest import eventually
from tests.e2e.conftest import place, place_and_complete, production_of, wait_for_status
from tests.e2e.test_exceptions import DAY
from tools.stack import services
from tools.stack.processes import stop
from tools.stack.services import Replica

pytestmark = pytest.mark.usefixtures("invariants")


def instances_of(monitor_api, order_id: str, count: int = 1) -> list[dict]:
    """The order's instances the monitor knows, oldest first, once it knows `count` of them."""
    def found():
        page = monitor_api.get("/instances", params={"order_id": order_id}).json()
        return len(page["items"]) >= count and list(reversed(page["items"]))
    return eventually(found, what=f"{count} process instance(s) of order {order_id} in the monitor")


def detail_when(monitor_api, key: int, ready, what: str, timeout: float = 30) -> dict:
    return eventually(lambda: ready(d := monitor_api.get(f"/instances/{key}").json()) and d, timeout=timeout,
                      what=what)


def test_an_orders_instances_are_found_by_its_id_with_the_path_they_took_and_their_end(
        order_api, monitor_api):
    order = place_and_complete(order_api)
    fulfilment, shipment = instances_of(monitor_api, order["id"], count=2)
    assert (fulfilment["bpmn_process_id"], shipment["bpmn_process_id"]) == ("order-fulfillment", "order-shipment")
    assert shipment["parent_key"] == fulfilment["key"] == order["process_instance_key"]

    done = detail_when(monitor_api, fulfilment["key"], lambda d: d["state"] == "COMPLETED",
                       what="the monitor to see the instance completed")
    assert {"ReserveStock", "ShipAvailable", "CompleteOrder", "OrderCompleted"} <= set(done["completed_elements"])
    assert done["completed_elements"].index("ReserveStock") < done["completed_elements"].index("CompleteOrder")
    assert done["active_elements"] == [] and "Flow_ToFulfil" in done["taken_flows"]
    assert [c["key"] for c in done["children"]] == [shipment["key"]]
    assert {v["name"]: v["value"] for v in done["variables"]}["orderId"] == f'"{order["id"]}"'
    assert done["order_url"].endswith(f"/orders/{order['id']}")
    assert order["monitor"].endswith(f"/#/orders/{order['id']}")

    diagram = monitor_api.get(f"/definitions/{done['definition_key']}/xml")
    assert diagram.status_code == 200 and 'id="CompleteOrder"' in diagram.text
    assert monitor_api.get("/instances", params={"order_id": order["id"], "state": "ACTIVE"}).json()["total"] == 0
    refused = monitor_api.post(f"/instances/{fulfilment['key']}/cancellation")
    assert refused.status_code == 409 and "COMPLETED, not active" in refused.json()["detail"]


def test_an_incident_shows_its_message_and_retried_through_the_monitor_after_a_fix_the_order_completes(
        order_api, warehouse_api, monitor_api, sku_the_warehouse_lacks):
    sku = sku_the_warehouse_lacks()  # not in the Warehouse yet: the reservation cannot work
    order_id = place(order_api, items=[{"sku": sku, "quantity": 1}])
    [instance] = instances_of(monitor_api, order_id)

    def open_incident():
        page = monitor_api.get("/incidents").json()
        return next((i for i in page["items"] if i["instance_key"] == instance["key"]), None)
    incident = eventually(open_incident, what="the incident in the monitor")
    assert (incident["element_id"], incident["message"], incident["order_id"]) == (
        "ReserveStock", f"warehouse.reserve-stock: unknown sku: {sku}", order_id)
    failing = monitor_api.get(f"/definitions/{instance['definition_key']}/statistics").json()
    assert next(e for e in failing if e["element_id"] == "ReserveStock")["incidents"] >= 1
    assert monitor_api.get("/instances", params={"order_id": order_id, "incident": True}).json()["total"] == 1

    created = warehouse_api.put(f"/stock/{sku}", json={"on_hand": 3, "name": "test item"})
    assert created.status_code == 201, created.text
    retried = monitor_api.post(f"/incidents/{incident['key']}/retry")
    assert retried.status_code == 202, retried.text

    wait_for_status(order_api, order_id, "COMPLETED")
    done = detail_when(monitor_api, instance["key"], lambda d: d["state"] == "COMPLETED",
                       what="the monitor to see the instance completed")
    assert [(i["key"], i["state"]) for i in done["incidents"]] == [(incident["key"], "RESOLVED")]
    again = monitor_api.post(f"/incidents/{incident['key']}/retry")
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]


def late_stock_task(order_api, fresh_sku, engine_clock, monitor_api, service_db) -> tuple[str, dict]:
    """An order waiting for stock past its deadline, and its open DecideLateStock task as the monitor shows it."""
    order_id = place(order_api, items=[{"sku": fresh_sku(0), "quantity": 2}])
    wait_for_status(order_api, order_id, "AWAITING_STOCK")
    eventually(lambda: production_of(service_db, order_id), what="the replenishment request")
    [instance] = instances_of(monitor_api, order_id)
    detail_when(monitor_api, instance["key"], lambda d: "AwaitStock" in d["active_elements"],
                what="the process to wait for stock")
    engine_clock(3 * DAY + 60)  # past the stock deadline: a person decides

    def open_task():
        page = monitor_api.get("/user-tasks").json()
        return next((t for t in page["items"] if t["instance_key"] == instance["key"]), None)
    return order_id, eventually(open_task, what="the late-stock user task in the monitor")


def test_a_late_backorders_user_task_is_completed_through_the_monitor_with_its_forms_choice(
        order_api, fresh_sku, paused_production, engine_clock, monitor_api, service_db):
    order_id, task = late_stock_task(order_api, fresh_sku, engine_clock, monitor_api, service_db)
    assert (task["element_id"], task["order_id"], task["candidate_groups"]) == (
        "DecideLateStock", order_id, ["fulfilment-team"])
    assert task["form"]["form_id"] == DECISION_FORM
    assert {c["value"]: c["label"] for c in task["form"]["choices"]} == DECISION_CHOICES

    wrong = monitor_api.post(f"/user-tasks/{task['key']}/completion", json={"variables": {"decision": "maybe"}})
    assert wrong.status_code == 422 and "decision must be one of continue, cancel" in wrong.json()["detail"]
    completed = monitor_api.post(f"/user-tasks/{task['key']}/completion", json={"variables": {"decision": "cancel"}})
    assert completed.status_code == 202, completed.text

    wait_for_status(order_api, order_id, "CANCELLED")
    eventually(lambda: monitor_api.get(f"/user-tasks/{task['key']}").json()["state"] == "COMPLETED",
               what="the monitor to see the task completed")
    done = detail_when(monitor_api, task["instance_key"], lambda d: d["state"] == "COMPLETED",
                       what="the monitor to see the instance end")
    assert {"DecideLateStock", "CancelOrder"} <= set(done["completed_elements"])


# A process of the test's own: it waits an hour, touching no service, so cancelling it leaves no order behind.
WAITING_PROCESS = "monitor-test-wait"
WAITING_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="MonitorTest"
                  targetNamespace="http://fulfilment-suite/tests">
  <bpmn:process id="{WAITING_PROCESS}" name="Waits an hour (monitor test)" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>ToWait</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="ToWait" sourceRef="Start" targetRef="Wait" />
    <bpmn:intermediateCatchEvent id="Wait">
      <bpmn:incoming>ToWait</bpmn:incoming><bpmn:outgoing>ToEnd</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="ToEnd" sourceRef="Wait" targetRef="End" />
    <bpmn:endEvent id="End"><bpmn:incoming>ToEnd</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def start_waiting_instance(stack, tmp_path: Path) -> int:
    model = tmp_path / f"{WAITING_PROCESS}.bpmn"
    model.write_text(WAITING_BPMN)

    async def start() -> int:
        client = make_client(stack.zeebe_address)
        await client.deploy_resource(str(model))
        return (await client.run_process(WAITING_PROCESS)).process_instance_key
    return asyncio.run(start())


def test_an_instance_without_progress_is_listed_as_stalled_and_can_be_cancelled_through_the_monitor(
        stack, monitor_api, tmp_path):
    key = start_waiting_instance(stack, tmp_path)
    detail_when(monitor_api, key, lambda d: d.get("active_elements") == ["Wait"], what="the instance to wait")
    time.sleep(2)

    stalled = monitor_api.get("/stalled-instances", params={"idle_seconds": 1, "limit": 500}).json()
    [mine] = [s for s in stalled if s["key"] == key]
    assert (mine["bpmn_process_id"], mine["waiting_at"], mine["order_id"]) == (WAITING_PROCESS, ["Wait"], None)
    assert mine["idle_seconds"] >= 1
    assert key not in [s["key"] for s in monitor_api.get("/stalled-instances", params={"idle_seconds": 3600})
                       .json()]

    cancelled = monitor_api.post(f"/instances/{key}/cancellation")
    assert cancelled.status_code == 202, cancelled.text
    done = detail_when(monitor_api, key, lambda d: d["state"] == "TERMINATED",
                       what="the monitor to see the instance cancelled")
    assert done["terminated_elements"] == ["Wait"]


def test_unknown_keys_and_bad_answers_are_refused_with_a_reason(monitor_api):
    unknown = monitor_api.get("/instances/1")
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json() == {"type": "tag:fulfilment.example,2026:problems/not-found", "title": "Not Found",
                              "status": 404, "detail": "no process instance 1", "instance": "/instances/1"}
    assert monitor_api.post("/incidents/1/retry").status_code == 404
    missing = monitor_api.post("/user-tasks/1/completion", json={"variables": {"decision": "continue"}})
    assert missing.status_code == 404 and missing.json()["detail"] == "no user task 1"
    assert monitor_api.get("/instances", params={"state": "SLEEPING"}).status_code == 422


@pytest.mark.kills_components
def test_a_job_held_by_a_worker_that_vanished_is_started_again_and_the_order_completes(
        stack, order_api, monitor_api, camunda_api, service_db, fresh_sku, engine_records):
    """A stand-in for every job that stops recurring (camunda/camunda#16884 is another): nothing but the
    monitor's repair can move the order before the hour is up."""
    sku = fresh_sku(2)
    warehouse = Replica("warehouse")
    stop(stack, warehouse.name)  # so that the test, not the warehouse, takes the job
    try:
        order_id = place(order_api, items=[{"sku": sku, "quantity": 1}])
        held = eventually(lambda: take_job(camunda_api, ReserveStock.job_type, order_id), timeout=60,
                          what="the reservation job of the order")
    finally:
        services.start(stack, [warehouse])
    [instance] = instances_of(monitor_api, order_id)
    detail_when(monitor_api, instance["key"], lambda d: "ReserveStock" in d["active_elements"],
                what="the monitor to see the instance wait at ReserveStock")
    time.sleep(5)
    assert order_api.get(f"/orders/{order_id}").json()["status"] == "PLACED", "the job is held: nothing moves"

    with service_db("monitor") as db:  # as if an hour had passed since the engine last wrote about it
        db.execute(text("UPDATE instances SET last_record_at = now() - interval '1 hour' WHERE key = :key"),
                   {"key": instance["key"]})
        db.commit()
    wait_for_status(order_api, order_id, "COMPLETED", timeout=120)
    assert "ReserveStock" in engine_records.visited_elements(instance["key"], "ELEMENT_TERMINATED")
    cancelled = [r for r in engine_records.records("JOB") if r["key"] == int(held) and r["intent"] == "CANCELED"]
    assert cancelled, "the held job was cancelled with its element"
    metrics = monitor_api.get("/metrics").text
    assert 'fulfil_monitor_restarted_jobs_total{element="ReserveStock",outcome="restarted"}' in metrics


def take_job(camunda_api, job_type: str, order_id: str) -> int | None:
    """Activate the order's job of `job_type` for an hour, as a worker that then vanishes; hand others back."""
    jobs = camunda_api.post("/v2/jobs/activation", json={
        "type": job_type, "worker": "vanished-worker", "timeout": 3_600_000, "maxJobsToActivate": 10,
        "requestTimeout": 1000}).json()["jobs"]
    mine = None
    for job in jobs:
        if job["variables"].get("orderId") == order_id:
            mine = job["key"]
        else:
            camunda_api.post(f"/v2/jobs/{job['key']}/failure", json={"retries": job["retries"]})
    return mine
