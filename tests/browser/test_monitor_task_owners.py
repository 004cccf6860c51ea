"""The process monitor's page for a reviewer who is no operator, in a real browser: they see their group's review,
claim it, and complete it with a note."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_monitor_page import instance_of
from tests.conftest import eventually
from tests.e2e.conftest import place
from tools.stack import keycloak


def test_a_reviewer_claims_a_review_on_the_page_and_completes_it_with_a_note(
        page, service_url, log_in, order_api, fresh_sku, monitor_api):
    order_id = place(order_api, items=[{"sku": fresh_sku(150), "quantity": 100}])  # 100 units: held for review
    instance = instance_of(monitor_api, order_id)

    def review():
        return next((t for t in monitor_api.get("/user-tasks", params={"limit": 500}).json()["items"]
                     if t["instance_key"] == instance["key"]), None)
    key = eventually(review, what="the review task in the monitor")["key"]

    log_in(page, service_url("monitor", "/#/tasks"), keycloak.REVIEWER_USER)
    expect(page.get_by_test_id("user")).to_have_text(keycloak.REVIEWER_USER)
    expect(page.locator("#roles")).to_have_text("no role; groups fulfilment-reviewers")
    task = page.get_by_test_id("task-row").filter(has_text=order_id)
    expect(task).to_contain_text("group fulfilment-reviewers")
    task.get_by_test_id("claim").click()
    expect(page.locator("#message")).to_contain_text(f"user task {key} assigned to {keycloak.REVIEWER_USER}")
    eventually(lambda: monitor_api.get(f"/user-tasks/{key}").json()["assignee"] == keycloak.REVIEWER_USER,
               what="the claim in the monitor")
    page.reload()
    task = page.get_by_test_id("task-row").filter(has_text=order_id)
    expect(task.get_by_test_id("assignee")).to_contain_text(keycloak.REVIEWER_USER)
    expect(task.get_by_test_id("release")).to_be_visible()
    task.get_by_label("Approve").check()
    task.get_by_test_id("text-reviewNote").fill("a class set for a school")
    task.get_by_test_id("complete").click()
    expect(page.locator("#message")).to_contain_text(
        "completed with {'review': 'approve', 'reviewNote': 'a class set for a school'} by demo-reviewer")
    eventually(lambda: monitor_api.get(f"/user-tasks/{key}").json()["state"] == "COMPLETED",
               what="the monitor to see the review completed")
