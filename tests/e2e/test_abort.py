"""An operator aborts an order its process cannot finish: its work is undone and it ends CANCELLED; the monitor
never cancels an order's instance behind the order's back."""
from __future__ import annotations

from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status


def reserved(warehouse_api, sku: str) -> int:
    return warehouse_api.get(f"/stock/{sku}").json()["reserved"]


def waiting_for_the_rest(order_api, warehouse_api, fresh_sku) -> tuple[str, str]:
    """An order with one line reserved and one waiting for stock that never comes; returns it and the reserved SKU."""
    in_stock = fresh_sku(3)
    order_id = order_api.post("/orders", json=new_order_request(accept_partial_shipments=False, items=[
        {"sku": in_stock, "quantity": 2}, {"sku": fresh_sku(0), "quantity": 1}])).json()["id"]
    wait_for_status(order_api, order_id, "AWAITING_STOCK")
    assert reserved(warehouse_api, in_stock) == 2
    return order_id, in_stock


def fulfilment_of(monitor_api, order_id: str) -> dict:
    return eventually(lambda: next((i for i in monitor_api.get("/instances", params={"order_id": order_id}).json()
                                    ["items"] if i["bpmn_process_id"] == "order-fulfillment"), None),
                      what=f"the monitor to know order {order_id}'s process")


def test_an_order_whose_process_was_cancelled_in_the_engine_is_aborted_with_its_stock_returned(
        order_api, warehouse_api, monitor_api, camunda_api, engine_records, login, fresh_sku):
    order_id, in_stock = waiting_for_the_rest(order_api, warehouse_api, fresh_sku)
    fulfilment = fulfilment_of(monitor_api, order_id)
    refused = monitor_api.post(f"/instances/{fulfilment['key']}/cancellation")
    assert refused.status_code == 409, "the monitor offers the order's cancel or abort instead"
    assert f"fulfil order abort {order_id}" in refused.json()["detail"]
    # Done in the engine itself (as the monitor did before): the order is stranded with its stock reserved.
    assert camunda_api.post(f"/v2/process-instances/{fulfilment['key']}/cancellation", json={}).status_code == 204
    eventually(lambda: engine_records.process_instance_state(fulfilment["key"]) == "TERMINATED",
               what="the instance to end")

    abort = order_api.post(f"/orders/{order_id}/abort", json={"reason": "process cancelled in the engine"},
                           auth=login())
    assert abort.status_code == 202, abort.text
    again = order_api.post(f"/orders/{order_id}/abort", json={"reason": "asked twice"}, auth=login())
    assert again.status_code == 200 and again.json()["result"] == "abort requested before"
    assert order_api.post(f"/orders/{order_id}/abort", json={"reason": "a customer"}).status_code == 403

    order = wait_for_status(order_api, order_id, "CANCELLED")
    assert reserved(warehouse_api, in_stock) == 0, "the reservation is undone"
    asked = [e["what"] for e in order["timeline"] if e["what"].startswith("abort requested by ")]
    assert len(asked) == 1 and asked[0].endswith(": process cancelled in the engine")
    ended = order_api.post(f"/orders/{order_id}/abort", json={"reason": "once more"}, auth=login())
    assert ended.status_code == 409 and "has ended (CANCELLED)" in ended.json()["detail"]


def test_aborting_an_order_whose_process_still_runs_stops_it_and_undoes_its_work(
        order_api, warehouse_api, monitor_api, engine_records, login, fresh_sku):
    order_id, in_stock = waiting_for_the_rest(order_api, warehouse_api, fresh_sku)
    fulfilment = fulfilment_of(monitor_api, order_id)
    abort = order_api.post(f"/orders/{order_id}/abort", json={"reason": "the customer's address is unusable"},
                           auth=login())
    assert abort.status_code == 202, abort.text
    wait_for_status(order_api, order_id, "CANCELLED")
    assert reserved(warehouse_api, in_stock) == 0
    eventually(lambda: engine_records.process_instance_state(fulfilment["key"]) == "COMPLETED",
               what="the fulfilment to stop (its abort event sub-process ends it)")
    assert "StopRequested" in engine_records.visited_elements(fulfilment["key"])
    assert "ReserveStock" in engine_records.visited_elements(fulfilment["key"])
