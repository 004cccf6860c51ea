"""Batch operations: incidents retried and orders aborted many at a time, each as one operation whose progress and
per-item results an operator reads, through the existing retry and abort paths."""
from __future__ import annotations

from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status
from tests.e2e.test_abort import reserved, waiting_for_the_rest
from tests.e2e.test_incidents import process_of


def finished(client, path: str, timeout: float = 60, **kwargs) -> dict:
    return eventually(lambda: (o := client.get(path, **kwargs).json())["state"] == "DONE" and o, timeout=timeout,
                      what=f"the operation {path} to finish")


def test_an_operator_retries_three_incidents_in_one_operation_and_reads_each_ones_result(
        order_api, monitor_api, engine_records, sku_the_warehouse_lacks):
    sku = sku_the_warehouse_lacks()
    orders = [order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 1}])).json()["id"]
              for _ in range(3)]
    incidents = {eventually(lambda o=o: engine_records.open_incidents(process_of(engine_records, o)),
                            what=f"the incident of {o}")[0].key for o in orders}
    eventually(lambda: incidents <= {i["key"] for i in monitor_api.get("/incidents", params={"limit": 500})
                                     .json()["items"]}, what="the monitor to know the three incidents")

    answer = monitor_api.post("/operations/incident-retries",
                              json={"job_type": "warehouse.reserve-stock", "message_contains": sku})
    assert answer.status_code == 202, answer.text
    assert answer.json()["total"] == 3
    operation = finished(monitor_api, f"/operations/{answer.json()['id']}")
    assert (operation["ok"], operation["failed"]) == (3, 0)
    assert {int(i["target"]) for i in operation["items"]} == incidents
    assert all(i["state"] == "OK" and i["result"] for i in operation["items"])
    listed = monitor_api.get("/operations").json()["items"]
    assert operation["id"] in [o["id"] for o in listed]
    audit = monitor_api.get("/audit", params={"order_id": orders[0]}).json()["items"]
    assert audit[0]["action"] == "retry incident" and audit[0]["actor"] == operation["actor"]


def test_an_abort_batch_of_two_orders_ends_both_cancelled_with_their_stock_returned(
        order_api, warehouse_api, login, fresh_sku):
    waiting = [waiting_for_the_rest(order_api, warehouse_api, fresh_sku) for _ in range(2)]
    answer = order_api.post("/order-operations", auth=login(), json={
        "action": "abort", "order_ids": [order_id for order_id, _ in waiting], "reason": "supplier gone"})
    assert answer.status_code == 202, answer.text
    operation = finished(order_api, f"/order-operations/{answer.json()['id']}", auth=login())
    assert [(i["state"], i["result"]) for i in operation["items"]] == [("OK", "ok: abort requested")] * 2
    for order_id, sku in waiting:
        order = wait_for_status(order_api, order_id, "CANCELLED")
        assert reserved(warehouse_api, sku) == 0, "the reservation is undone"
        assert f"abort requested by {operation['actor']}: supplier gone" in [e["what"] for e in order["timeline"]]
