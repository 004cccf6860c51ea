"""Who works on a user task, on the real stack: tokens from the real Keycloak carry the caller's groups, and only the
task's candidate groups claim, release and complete it through the process monitor; a claimed task is its
assignee's alone."""
from __future__ import annotations

import httpx
import pytest

from shared.contracts.roles import FULFILMENT_REVIEWERS, FULFILMENT_TEAM
from tests.conftest import eventually
from tests.e2e.conftest import place, wait_for_status
from tests.e2e.test_monitor import detail_when, instances_of, late_stock_task
from tools.stack import keycloak

pytestmark = pytest.mark.usefixtures("invariants")

OPERATOR, REVIEWER, TEAMMATE = keycloak.OPERATOR_USER, keycloak.REVIEWER_USER, keycloak.TEAMMATE_USER
CUSTOMER = keycloak.CUSTOMER_USERS[0]


@pytest.fixture
def monitor_as(stack, login):
    """`monitor_as(user)`: the process monitor's API with that demo user's token."""
    clients: list[httpx.Client] = []

    def of(user: str) -> httpx.Client:
        clients.append(httpx.Client(base_url=f"http://127.0.0.1:{stack.monitor_port}", timeout=10, auth=login(user)))
        return clients[-1]

    yield of
    for client in clients:
        client.close()


def assignee_becomes(monitor_api, key: int, assignee: str | None) -> dict:
    return eventually(lambda: (t := monitor_api.get(f"/user-tasks/{key}").json())["assignee"] == assignee and t,
                      what=f"user task {key} to be assigned to {assignee}")


def test_only_the_team_claims_and_completes_a_deadline_task_and_a_claimed_one_only_its_assignee(
        order_api, fresh_sku, paused_production, engine_clock, monitor_api, service_db, monitor_as):
    order_id, task = late_stock_task(order_api, fresh_sku, engine_clock, monitor_api, service_db)
    key = task["key"]
    assert task["candidate_groups"] == [FULFILMENT_TEAM] and task["assignee"] is None
    assert task["due_date"], "every user task has a due date"
    cancel = {"variables": {"decision": "cancel"}}
    customer, reviewer, teammate = monitor_as(CUSTOMER), monitor_as(REVIEWER), monitor_as(TEAMMATE)

    # A customer is no operator and in no group: refused at the door.
    for refused in (customer.get("/user-tasks"), customer.post(f"/user-tasks/{key}/assignment"),
                    customer.post(f"/user-tasks/{key}/completion", json=cancel)):
        assert refused.status_code == 403, refused.text
        assert f"membership of the group {FULFILMENT_REVIEWERS} or {FULFILMENT_TEAM}" in refused.json()["detail"]

    # A reviewer lists tasks, but not the team's, and may neither see, claim nor complete one.
    assert key not in [t["key"] for t in reviewer.get("/user-tasks", params={"limit": 500}).json()["items"]]
    for refused in (reviewer.get(f"/user-tasks/{key}"), reviewer.post(f"/user-tasks/{key}/assignment"),
                    reviewer.post(f"/user-tasks/{key}/completion", json=cancel)):
        assert refused.status_code == 403, refused.text
        assert f"only members of the group {FULFILMENT_TEAM} may" in refused.json()["detail"]
        assert f"{REVIEWER} is in {FULFILMENT_REVIEWERS}" in refused.json()["detail"]

    # The operator claims it; from then on it is theirs alone, even for another member of the team.
    claimed = monitor_api.post(f"/user-tasks/{key}/assignment")
    assert claimed.status_code == 202 and OPERATOR in claimed.json()["detail"], claimed.text
    assignee_becomes(monitor_api, key, OPERATOR)
    assert key in [t["key"] for t in teammate.get("/user-tasks", params={"limit": 500}).json()["items"]]
    for refused, reason in ((teammate.post(f"/user-tasks/{key}/completion", json=cancel),
                             f"claimed by {OPERATOR}: only they may complete it"),
                            (teammate.post(f"/user-tasks/{key}/assignment"), f"already claimed by {OPERATOR}"),
                            (teammate.delete(f"/user-tasks/{key}/assignment"), f"claimed by {OPERATOR}: only they")):
        assert refused.status_code == 403, refused.text
        assert reason in refused.json()["detail"]

    # Released, the teammate could take it; the operator claims it again and completes it.
    released = monitor_api.delete(f"/user-tasks/{key}/assignment")
    assert released.status_code == 202, released.text
    assignee_becomes(monitor_api, key, None)
    assert monitor_api.post(f"/user-tasks/{key}/assignment").status_code == 202
    assignee_becomes(monitor_api, key, OPERATOR)
    completed = monitor_api.post(f"/user-tasks/{key}/completion", json=cancel)
    assert completed.status_code == 202 and completed.json()["detail"].endswith(f"by {OPERATOR}"), completed.text
    wait_for_status(order_api, order_id, "CANCELLED")
    done = eventually(lambda: (t := monitor_api.get(f"/user-tasks/{key}").json())["state"] == "COMPLETED" and t,
                      what="the monitor to see the task completed")
    assert done["assignee"] == OPERATOR


def test_a_reviewer_who_is_no_operator_claims_and_completes_a_review_with_a_note(
        order_api, fresh_sku, monitor_api, monitor_as):
    # 100 units or more in one order: the review rules (bpmn/order-review.dmn) hold it for a person to review.
    order_id = place(order_api, items=[{"sku": fresh_sku(150), "quantity": 100}])
    [instance] = instances_of(monitor_api, order_id)
    reviewer = monitor_as(REVIEWER)

    def review_task():
        page = reviewer.get("/user-tasks", params={"limit": 500}).json()
        return next((t for t in page["items"] if t["instance_key"] == instance["key"]), None)
    task = eventually(review_task, what="the review task in the reviewer's list")
    key = task["key"]
    assert (task["element_id"], task["candidate_groups"]) == ("ReviewOrder", [FULFILMENT_REVIEWERS])
    assert [t["variable"] for t in task["form"]["texts"]] == ["reviewNote"] and task["due_date"]

    # An operator sees every task, but a review is the reviewers' to claim and complete.
    for refused in (monitor_api.post(f"/user-tasks/{key}/assignment"),
                    monitor_api.post(f"/user-tasks/{key}/completion", json={"variables": {"review": "approve"}})):
        assert refused.status_code == 403, refused.text
        assert f"only members of the group {FULFILMENT_REVIEWERS} may" in refused.json()["detail"]

    assert reviewer.post(f"/user-tasks/{key}/assignment").status_code == 202
    assignee_becomes(reviewer, key, REVIEWER)
    note = "a school's order for a whole class: fine"
    completed = reviewer.post(f"/user-tasks/{key}/completion",
                              json={"variables": {"review": "approve", "reviewNote": note}})
    assert completed.status_code == 202, completed.text
    eventually(lambda: reviewer.get(f"/user-tasks/{key}").json()["state"] == "COMPLETED",
               what="the monitor to see the review completed")
    detail = detail_when(monitor_api, instance["key"],
                         lambda d: {v["name"] for v in d["variables"]} >= {"review", "reviewNote"},
                         what="the review's variables on the instance")
    given = {v["name"]: v["value"] for v in detail["variables"]}
    assert (given["review"], given["reviewNote"]) == ('"approve"', f'"{note}"')
