"""The process monitor's page in a real browser: an order's instance found by its id, its path on the diagram,
an incident retried and a user task completed from the page."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import eventually
from tests.e2e.conftest import place, place_and_complete, production_of, wait_for_status
from tests.e2e.test_exceptions import DAY
from tools.stack import keycloak


def marked(page: Page, element_id: str) -> list[str]:
    """The markers on a diagram element (completed, taken, active, failing, terminated)."""
    return page.locator(f'.djs-element[data-element-id="{element_id}"]').get_attribute("class").split()


def diagram_drawn(page: Page) -> None:
    expect(page.locator('[data-testid="diagram"] .djs-element[data-element-id="OrderPlaced"]')).to_be_visible()


def instance_of(monitor_api, order_id: str, process: str = "order-fulfillment") -> dict:
    return eventually(lambda: next((i for i in monitor_api.get("/instances", params={"order_id": order_id})
                                    .json()["items"] if i["bpmn_process_id"] == process), None),
                      what=f"the {process} instance of order {order_id} in the monitor")


def test_an_orders_instance_is_found_by_its_id_and_its_diagram_marks_the_path_it_took(
        page, service_url, log_in, order_api, monitor_api):
    order = place_and_complete(order_api)
    instance = instance_of(monitor_api, order["id"])
    eventually(lambda: monitor_api.get(f"/instances/{instance['key']}").json()["state"] == "COMPLETED",
               what="the monitor to see the instance completed")

    log_in(page, service_url("monitor", "/#/instances"))
    page.get_by_test_id("filter-order").fill(order["id"])
    page.get_by_role("button", name="filter").click()
    expect(page.get_by_test_id("instance-row")).to_have_count(2)  # the order's process and its shipment
    page.get_by_test_id("instance-row").filter(has_text="order-fulfillment").get_by_test_id("instance-link").click()

    diagram_drawn(page)
    expect(page.locator("h2").first).to_contain_text(f"instance {instance['key']} · COMPLETED")
    assert "completed" in marked(page, "ReserveStock") and "completed" in marked(page, "CompleteOrder")
    assert "taken" in marked(page, "Flow_ToComplete")
    assert "completed" not in marked(page, "DecideLateStock"), "a task the order never reached is not marked"
    expect(page.get_by_test_id("order-link")).to_have_attribute("href", instance["order_url"])


def test_an_incident_is_marked_on_its_element_and_retried_from_the_page_once_its_cause_is_fixed(
        page, service_url, log_in, order_api, warehouse_api, monitor_api, screenshot, sku_the_warehouse_lacks):
    sku = sku_the_warehouse_lacks()  # not in the Warehouse yet: the reservation cannot work
    order_id = place(order_api, items=[{"sku": sku, "quantity": 1}])
    instance = instance_of(monitor_api, order_id)
    eventually(lambda: monitor_api.get(f"/instances/{instance['key']}").json()["open_incidents"],
               what="the incident in the monitor")

    log_in(page, service_url("monitor", f"/#/instances/{instance['key']}"))
    diagram_drawn(page)
    assert "failing" in marked(page, "ReserveStock")
    expect(page.get_by_test_id("badge-incidents-ReserveStock")).to_be_visible()
    row = page.get_by_test_id("incident-row")
    expect(row).to_contain_text(f"warehouse.reserve-stock: unknown sku: {sku}")
    screenshot(page, "monitor")

    assert warehouse_api.put(f"/stock/{sku}", json={"on_hand": 2, "name": "test item"}).status_code == 201
    row.get_by_test_id("retry").click()
    expect(page.locator("#message")).to_contain_text("resolved")
    wait_for_status(order_api, order_id, "COMPLETED")
    eventually(lambda: monitor_api.get(f"/instances/{instance['key']}").json()["state"] == "COMPLETED",
               what="the monitor to see the instance completed")
    page.reload()
    diagram_drawn(page)
    expect(page.locator("h2").first).to_contain_text("COMPLETED")
    assert "completed" in marked(page, "CompleteOrder") and "failing" not in marked(page, "ReserveStock")
    expect(page.get_by_test_id("incident-row")).to_contain_text("RESOLVED")


def test_a_user_task_is_completed_from_the_page_with_its_forms_choice(
        page, service_url, log_in, order_api, fresh_sku, paused_production, engine_clock, monitor_api, service_db):
    order_id = place(order_api, items=[{"sku": fresh_sku(0), "quantity": 2}])
    wait_for_status(order_api, order_id, "AWAITING_STOCK")
    eventually(lambda: production_of(service_db, order_id), what="the replenishment request")
    instance = instance_of(monitor_api, order_id)
    eventually(lambda: "AwaitStock" in monitor_api.get(f"/instances/{instance['key']}").json()["active_elements"],
               what="the process to wait for stock")
    engine_clock(3 * DAY + 60)  # past the stock deadline: a person decides
    eventually(lambda: any(task["instance_key"] == instance["key"]
                           for task in monitor_api.get("/user-tasks").json()["items"]),
               what="the user task in the monitor")

    log_in(page, service_url("monitor", "/#/tasks"))
    task = page.get_by_test_id("task-row").filter(has_text=order_id)
    expect(task).to_contain_text("DecideLateStock")
    expect(task).to_contain_text("group fulfilment-team")
    task.get_by_label("Cancel the order").check()
    task.get_by_test_id("complete").click()
    expect(page.locator("#message")).to_contain_text("completed with {'decision': 'cancel'}")
    wait_for_status(order_api, order_id, "CANCELLED")


def test_the_page_logs_in_and_a_customer_logged_in_sees_no_process(page, service_url, log_in):
    page.expected_problems.append("status of 403 (Forbidden) (http://127.0.0.1:")
    log_in(page, service_url("monitor"), keycloak.CUSTOMER_USERS[0])
    expect(page.locator("#roles")).to_have_text("customer")
    expect(page.locator("#message")).to_contain_text("this needs the role operator")
