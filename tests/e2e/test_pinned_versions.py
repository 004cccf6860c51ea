"""An order keeps the process versions it started on: its shipments are called from its own deployment, however many
deployments come after it (bindingType="deployment" on the call activities)."""
from __future__ import annotations

import re

from tests.conftest import eventually
from tests.e2e.conftest import deployed_variant, place, wait_for_status
from tools import bootstrap

SHIPMENT, ROOT = "order-shipment", "order-fulfillment"


def renamed_shipment(name: str, text: str) -> str:
    """A harmless change: the shipment process gets another name, so the deployment has new versions."""
    return text.replace('name="Order shipment"', 'name="Order shipment (pinned-versions test)"') \
        if name == f"{SHIPMENT}.bpmn" else text


def unpinned(name: str, text: str) -> str:
    """The call activities bound to the latest shipment version, as they were before bindingType="deployment"."""
    return re.sub(r' bindingType="deployment"', "", text) if name == f"{ROOT}.bpmn" else text


def versions_of(monitor_api, order_id: str) -> dict[str, list[int]]:
    """The versions each process of the order runs on, as the monitor shows them."""
    items = monitor_api.get("/instances", params={"order_id": order_id, "limit": 20}).json()["items"]
    found: dict[str, list[int]] = {}
    for item in items:
        found.setdefault(item["bpmn_process_id"], []).append(item["version"])
    return found


def once_shown(monitor_api, order_id: str, process_id: str) -> dict[str, list[int]]:
    """The order's versions once the monitor has projected an instance of `process_id` (it follows the engine's
    records on Kafka)."""
    return eventually(lambda: process_id in (v := versions_of(monitor_api, order_id)) and v, timeout=30,
                      what=f"the monitor to show an instance of {process_id} for order {order_id}")


def run_waiting_order_across_a_deployment(stack, order_api, fresh_sku, paused_production, monitor_api,
                                          first_versions: dict[str, int]) -> tuple[dict, dict, dict]:
    """An order waits for stock on the deployment `first_versions`; a changed shipment is deployed; a new order
    ships at once; then the first order's stock arrives. Returns both orders' versions and the changed deployment's."""
    backordered, in_stock = fresh_sku(0), fresh_sku(5)
    first = place(order_api, items=[{"sku": backordered, "quantity": 1}])
    wait_for_status(order_api, first, "AWAITING_STOCK")
    assert once_shown(monitor_api, first, ROOT)[ROOT] == [first_versions[ROOT]]
    with deployed_variant(stack, renamed_shipment) as changed:
        assert changed[SHIPMENT] != first_versions[SHIPMENT]
        second = place(order_api, items=[{"sku": in_stock, "quantity": 1}])
        wait_for_status(order_api, second, "COMPLETED")
        paused_production()  # the line runs again: the first order's stock is made and allocated
        wait_for_status(order_api, first, "COMPLETED")
    return once_shown(monitor_api, first, SHIPMENT), once_shown(monitor_api, second, SHIPMENT), changed


def test_an_order_waiting_across_a_deployment_ships_on_the_version_of_its_own_deployment(
        stack, order_api, fresh_sku, paused_production, monitor_api):
    repo = bootstrap.deploy_bpmn(stack.zeebe_address)  # bpmn/ as it is: unchanged, it is the versions already there
    first, second, changed = run_waiting_order_across_a_deployment(
        stack, order_api, fresh_sku, paused_production, monitor_api, repo)
    assert first == {ROOT: [repo[ROOT]], SHIPMENT: [repo[SHIPMENT]]}
    assert second == {ROOT: [changed[ROOT]], SHIPMENT: [changed[SHIPMENT]]}


def test_unpinned_call_activities_would_ship_a_waiting_order_on_the_newest_shipment_version(
        stack, order_api, fresh_sku, paused_production, monitor_api):
    """Why the pin: bound to the latest version, the first order's shipment runs on what was deployed after it."""
    with deployed_variant(stack, unpinned) as old:
        first, second, changed = run_waiting_order_across_a_deployment(
            stack, order_api, fresh_sku, paused_production, monitor_api, old)
    assert first == {ROOT: [old[ROOT]], SHIPMENT: [changed[SHIPMENT]]}
