"""Who did what: an operator's actions name them (their token's subject) on the order's timeline and in the
monitor's audit. (Every token the realm issues has a subject; that a token without one may read but not act is
shown in process, tests/integration/in_process/test_*_operations.py, with tokens made there.)"""
from __future__ import annotations

import jwt

from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status
from tests.e2e.test_incidents import process_of


def subject_of(auth) -> str:
    return jwt.decode(auth.access_token(), options={"verify_signature": False})["sub"]


def test_an_operators_retry_and_abort_name_them_in_the_monitors_audit_and_on_the_orders_timeline(
        order_api, monitor_api, engine_records, login, sku_the_warehouse_lacks):
    operator = subject_of(login())
    order_id = order_api.post("/orders", json=new_order_request(items=[
        {"sku": sku_the_warehouse_lacks(), "quantity": 1}])).json()["id"]
    [incident] = eventually(lambda: engine_records.open_incidents(process_of(engine_records, order_id)),
                            what="an incident")
    eventually(lambda: any(i["key"] == incident.key
                           for i in monitor_api.get("/incidents", params={"limit": 500}).json()["items"]),
               what="the monitor to know the incident")
    assert monitor_api.post(f"/incidents/{incident.key}/retry").status_code == 202
    abort = order_api.post(f"/orders/{order_id}/abort", json={"reason": "no such item"}, auth=login())
    assert abort.status_code == 202, abort.text

    audit = monitor_api.get("/audit", params={"order_id": order_id}).json()["items"]
    assert [(e["actor"], e["action"], e["target"]) for e in audit] == [
        (operator, "retry incident", f"incident {incident.key}")]
    assert audit[0]["result"].startswith("ok: ")
    assert monitor_api.get("/audit", params={"actor": operator}).json()["total"] >= 1
    order = wait_for_status(order_api, order_id, "CANCELLED")
    assert f"abort requested by {operator}: no such item" in [e["what"] for e in order["timeline"]]


def test_a_customers_cancellation_names_the_customer(order_api, login):
    order_id = order_api.post("/orders", json=new_order_request()).json()["id"]
    assert order_api.post(f"/orders/{order_id}/cancel").status_code in (200, 202)
    customer = order_api.get(f"/orders/{order_id}").json()["customer_id"]
    timeline = order_api.get(f"/orders/{order_id}").json()["timeline"]
    assert f"cancellation requested by {customer}" in [e["what"] for e in timeline]
