"""Order batch operations and actors in this process: many orders aborted as one operation by the loop's steps, each
through the order's own abort (its stop and abort messages written once), its timeline naming the operator; a token
that names nobody refused."""
from __future__ import annotations

from sqlalchemy import update

from services.order import batches, db
from services.order.domain import OrderStatus
from shared.contracts.roles import CUSTOMER, OPERATOR
from tests.integration.in_process import test_order_routes
from tests.integration.in_process.conftest import bearer, messages_of
from tests.integration.in_process.test_order_routes import ALICE, AN_OPERATOR

order_routes = test_order_routes.orders  # the Order API in this process, under a name of this module

NOBODY = bearer(None, OPERATOR)


def work_all(sessions) -> int:
    done = 0
    while True:
        with sessions.begin() as session:
            if not batches.work(session):
                return done
        done += 1


def test_orders_of_a_status_are_aborted_as_one_operation_each_once_with_the_operator_on_its_timeline(order_routes):
    first, second = order_routes.placed(("KB-101", 1)), order_routes.placed(("MS-202", 1))
    with order_routes.sessions.begin() as session:  # ended meanwhile: not one to abort
        session.execute(update(db.orders).where(db.orders.c.id == second).values(status=OrderStatus.CANCELLED))
    answer = order_routes.client.post("/order-operations", headers=AN_OPERATOR, json={
        "action": "abort", "order_ids": [first, second], "reason": "stock system replaced"})
    assert answer.status_code == 202, answer.text
    operation = answer.json()
    assert (operation["total"], operation["pending"], operation["actor"]) == (2, 2, "olivia")
    assert work_all(order_routes.sessions) == 2
    done = order_routes.client.get(f"/order-operations/{operation['id']}", headers=AN_OPERATOR).json()
    assert (done["state"], done["ok"], done["failed"]) == ("DONE", 2, 0)
    assert [(i["target"], i["result"]) for i in done["items"]] == [
        (first, "ok: abort requested"), (second, "already cancelled")]
    timeline = order_routes.client.get(f"/orders/{first}", headers=AN_OPERATOR).json()["timeline"]
    assert timeline[-1]["what"] == "abort requested by olivia: stock system replaced"
    assert [name for name, _ in messages_of(order_routes.sessions, first)].count("order-abort-requested") == 1
    listed = order_routes.client.get("/order-operations", headers=AN_OPERATOR).json()
    assert listed["items"][0]["id"] == operation["id"]


def test_a_cancellation_batch_reports_a_refused_order_as_failed_and_the_others_ok(order_routes):
    running, delivered = order_routes.placed(("KB-101", 1)), order_routes.placed(("KB-101", 1))
    with order_routes.sessions.begin() as session:
        session.execute(update(db.orders).where(db.orders.c.id == delivered).values(status=OrderStatus.COMPLETED))
    operation = order_routes.client.post("/order-operations", headers=AN_OPERATOR, json={
        "action": "cancel", "order_ids": [running, delivered]}).json()
    work_all(order_routes.sessions)
    done = order_routes.client.get(f"/order-operations/{operation['id']}", headers=AN_OPERATOR).json()
    assert [(i["target"], i["state"]) for i in done["items"]] == [(running, "OK"), (delivered, "ERROR")]
    assert done["items"][1]["result"].startswith("cancellation refused")
    timeline = order_routes.client.get(f"/orders/{running}", headers=AN_OPERATOR).json()["timeline"]
    assert timeline[-1]["what"] == "cancellation requested by olivia"


def test_a_batch_names_its_orders_and_an_abort_its_reason(order_routes):
    for body in [{"action": "abort", "reason": "why"}, {"action": "abort", "status": "PLACED"}]:
        refused = order_routes.client.post("/order-operations", headers=AN_OPERATOR, json=body)
        assert refused.status_code == 422, body


def test_a_customer_cancellation_names_the_customer_and_a_token_without_a_subject_cannot_act(order_routes):
    order_id = order_routes.placed(("KB-101", 1))
    nobody = bearer(None, CUSTOMER, OPERATOR)
    for method, path, body in [("POST", f"/orders/{order_id}/cancel", None),
                               ("POST", f"/orders/{order_id}/abort", {"reason": "x"}),
                               ("POST", "/order-operations", {"action": "cancel", "status": "PLACED"}),
                               ("DELETE", "/customers/alice/personal-data", None)]:
        refused = order_routes.client.request(method, path, json=body, headers=nobody)
        assert refused.status_code == 403, path
        assert "names nobody" in refused.json()["detail"]
    assert order_routes.client.get(f"/orders/{order_id}", headers=NOBODY).status_code == 200
    order_routes.client.post(f"/orders/{order_id}/cancel", headers=ALICE)
    timeline = order_routes.client.get(f"/orders/{order_id}", headers=ALICE).json()["timeline"]
    assert timeline[-1]["what"] == "cancellation requested by alice"
