"""Review before any stock is reserved (bpmn/order-review.dmn, the user task Review order): an order the rules send to
a person waits IN_REVIEW, goes on when approved, ends REJECTED with the reason when rejected or refused, and is
escalated when nobody answers by its due date; a changed rule, deployed without a code change, changes which orders
are reviewed."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.contracts.order import OrderRejected, OrderReviewEscalated
from tests.conftest import eventually
from tests.e2e.conftest import deployed_variant, once_timeline_says, place, read_events, wait_for_status

pytestmark = pytest.mark.usefixtures("invariants")

DAY = 24 * 3600
# The rules of bpmn/order-review.dmn these tests take each outcome from (the test customer has many earlier orders).
REVIEWED_UNITS = 100  # Rule_ReviewLarge
REVIEW_REASON = "100 units or more in one order"
REFUSED_UNITS_PER_LINE, REFUSED_LINES = 100, 4  # Rule_RefuseWholesale: 400 units or more


def decide(camunda_api, **facts) -> dict:
    """What the deployed decision order-review answers for these start variables, evaluated by the engine."""
    response = camunda_api.post("/v2/decision-definitions/evaluation",
                                json={"decisionDefinitionId": "order-review", "variables": facts})
    assert response.status_code == 200, response.text
    return json.loads(response.json()["output"])


def facts(units: int, lines: int = 1, earlier: int = 100, partial: bool = True) -> dict:
    return {"totalUnits": units, "lineCount": lines, "earlierOrders": earlier, "acceptsPartial": partial}


@pytest.mark.parametrize("given, outcome, reason", [
    # The largest orders the other tests, the chaos soak and the bench place, by a customer with no earlier order
    # (a fresh stack) and without partial shipments: all go through without a person.
    (facts(6, lines=3, earlier=0, partial=False), "auto", "within the limits for automatic fulfilment"),
    (facts(19, earlier=0), "auto", "within the limits"),
    (facts(20, earlier=0), "review", "a new customer (fewer than 3 earlier orders) orders 20 units or more"),
    (facts(20, earlier=3), "auto", "within the limits"),
    (facts(99), "auto", "within the limits"),
    (facts(100), "review", "100 units or more in one order"),
    (facts(10, lines=10), "review", "10 lines or more in one order"),
    (facts(50, partial=False), "review", "50 units or more, shipped only all together"),
    (facts(50, partial=True), "auto", "within the limits"),
    (facts(399, lines=4), "review", "100 units or more in one order"),
    (facts(400, lines=4, earlier=0), "refuse", "400 units or more in one order"),
])
def test_the_review_rules_decide_as_the_table_in_the_docs_says(given, outcome, reason, camunda_api):
    decided = decide(camunda_api, **given)
    assert decided["outcome"] == outcome and decided["reason"].startswith(reason)


def open_review(engine_records, order_id: str):
    """The order's open Review order task, as the engine reported it."""
    def find():
        for instance in engine_records.instances_with_variable("orderId", order_id):
            for record in engine_records.records("USER_TASK"):
                value = record["value"]
                if (record["intent"] == "CREATED" and value["processInstanceKey"] == instance
                        and value["elementId"] == "ReviewOrder"):
                    return record
        return None
    return eventually(find, what=f"the review of order {order_id}")


def answer(camunda_api, task, **variables) -> None:
    response = camunda_api.post(f"/v2/user-tasks/{task['key']}/completion", json={"variables": variables})
    assert response.status_code == 204, response.text


def reserved_units(warehouse_api, sku: str) -> int:
    return warehouse_api.get(f"/stock/{sku}").json()["reserved"]


def test_an_order_the_rules_send_to_review_waits_for_a_reviewer_and_completes_once_approved(
        order_api, warehouse_api, fresh_sku, engine_records, camunda_api):
    sku = fresh_sku(REVIEWED_UNITS)
    order_id = place(order_api, items=[{"sku": sku, "quantity": REVIEWED_UNITS}])

    order = once_timeline_says(order_api, order_id, f"waiting for review: {REVIEW_REASON}")
    assert order["status"] == "IN_REVIEW"
    task = open_review(engine_records, order_id)
    assert task["value"]["candidateGroupsList"] == ["fulfilment-reviewers"]
    due = datetime.fromisoformat(task["value"]["dueDate"])
    assert abs(due - (datetime.now(timezone.utc) + timedelta(days=1))) < timedelta(minutes=10)  # P1D, the default
    assert reserved_units(warehouse_api, sku) == 0  # nothing is reserved before the review

    answer(camunda_api, task, review="approve")
    completed = wait_for_status(order_api, order_id, "COMPLETED")
    assert completed["status_reason"] is None


@pytest.mark.parametrize("variables, outcome, reason", [
    ({"review": "reject", "reviewNote": "a typo in the quantity,\nsurely"}, "rejected",
     "rejected in review: a typo in the quantity, surely"),
    ({"review": "changes"}, "changes-requested",
     f"changes asked for in review (no note; reviewed because {REVIEW_REASON})"),
])
def test_an_order_a_reviewer_rejects_ends_rejected_with_the_reason_and_nothing_reserved(
        variables, outcome, reason, order_api, warehouse_api, fresh_sku, engine_records, camunda_api, stack):
    sku = fresh_sku(REVIEWED_UNITS)
    order_id = place(order_api, items=[{"sku": sku, "quantity": REVIEWED_UNITS}])
    answer(camunda_api, open_review(engine_records, order_id), **variables)

    order = wait_for_status(order_api, order_id, "REJECTED")
    assert order["status_reason"] == reason
    assert order["timeline"][-1]["what"] == f"order rejected: {reason}"
    assert reserved_units(warehouse_api, sku) == 0
    [event] = read_events(stack, "order.events", order_id, expected=1, timeout=60, where=lambda r: dict(r.headers())[
        "ce_type"] == OrderRejected.event_type.encode())
    assert json.loads(event.value()) == {"order_id": order_id, "outcome": outcome, "reason": reason}
    # A final status: a cancellation now is refused, with the reason why.
    refused = order_api.post(f"/orders/{order_id}/cancel")
    assert refused.status_code == 409 and "rejected" in refused.json()["detail"]


def test_a_review_nobody_answers_by_its_due_date_is_escalated_and_stays_open(
        order_api, fresh_sku, engine_records, camunda_api, engine_clock, stack):
    sku = fresh_sku(0)
    order_id = place(order_api, items=[{"sku": sku, "quantity": REVIEWED_UNITS}])
    task = open_review(engine_records, order_id)
    assert "review overdue" not in json.dumps(order_api.get(f"/orders/{order_id}").json()["timeline"])

    engine_clock(DAY + 60)  # past orderReviewDeadline (P1D)
    order = once_timeline_says(order_api, order_id, "review overdue, escalated", timeout=60)
    assert order["status"] == "IN_REVIEW"
    read_events(stack, "order.events", order_id, expected=1, timeout=60, where=lambda r: dict(r.headers())[
        "ce_type"] == OrderReviewEscalated.event_type.encode())
    assert task["key"] in {t.key for t in engine_records.open_user_tasks(task["value"]["processInstanceKey"])}

    answer(camunda_api, task, review="reject", reviewNote="too late")  # the escalated task can still be answered
    assert wait_for_status(order_api, order_id, "REJECTED")["status_reason"] == "rejected in review: too late"
    escalations = [e for e in order_api.get(f"/orders/{order_id}").json()["timeline"]
                   if e["what"] == "review overdue, escalated"]
    assert len(escalations) == 1


def test_a_wholesale_order_is_refused_by_the_rules_without_a_person(
        order_api, warehouse_api, fresh_sku, engine_records, stack):
    skus = [fresh_sku(REFUSED_UNITS_PER_LINE) for _ in range(REFUSED_LINES)]
    order_id = place(order_api, items=[{"sku": sku, "quantity": REFUSED_UNITS_PER_LINE} for sku in skus])

    order = wait_for_status(order_api, order_id, "REJECTED")
    reason = "refused by the review rules: 400 units or more in one order: wholesale quantities are sold through sales"
    assert order["status_reason"] == reason
    assert [e["status"] for e in order["timeline"]] == ["PLACED", "REJECTED"]
    assert all(reserved_units(warehouse_api, sku) == 0 for sku in skus)
    [instance] = engine_records.instances_with_variable("orderId", order_id)
    assert "ReviewOrder" not in engine_records.visited_elements(instance, "ELEMENT_ACTIVATED")
    [event] = read_events(stack, "order.events", order_id, expected=1, timeout=60, where=lambda r: dict(r.headers())[
        "ce_type"] == OrderRejected.event_type.encode())
    assert json.loads(event.value())["outcome"] == "refused"


def test_a_changed_rule_deployed_without_a_code_change_changes_which_orders_are_reviewed(
        order_api, fresh_sku, engine_records, camunda_api, stack):
    units = 40  # below Rule_ReviewLarge as the repo has it
    sku = fresh_sku(2 * units)
    through = place(order_api, items=[{"sku": sku, "quantity": units}])
    wait_for_status(order_api, through, "COMPLETED")

    def lower_the_threshold(name: str, text: str) -> str:
        if name != "order-review.dmn":
            return text
        rule = '<inputEntry id="Rule_ReviewLarge_Units"><text>&gt;= 100</text></inputEntry>'
        assert rule in text
        return (text.replace(rule, rule.replace("100", str(units)))
                .replace('"100 units or more in one order"', f'"{units} units or more in one order"'))

    with deployed_variant(stack, lower_the_threshold) as versions:
        assert versions["order-review"] > 1
        held = place(order_api, items=[{"sku": sku, "quantity": units}])
        order = once_timeline_says(order_api, held, f"waiting for review: {units} units or more in one order")
    assert order["status"] == "IN_REVIEW"
    answer(camunda_api, open_review(engine_records, held), review="approve")
    wait_for_status(order_api, held, "COMPLETED")
