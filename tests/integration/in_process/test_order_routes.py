"""The Order API in this process: what each request answers and what it wrote (the order, its outbox rows)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from services.order import api, db
from services.order.settings import OrderSettings
from shared.contracts.order import CANCEL_REQUESTED, ORDER_PLACED, OrderCancellationRequested, OrderPlaced
from shared.contracts.roles import CUSTOMER, OPERATOR
from shared.runtime.service import Service
from shared.runtime.tables import outbox
from tests.integration.in_process.conftest import (
    bearer,
    events_of,
    in_process,
    messages_of,
    outbox_rows,
    settings_of,
)

LISTED = {"KB-101": "Mechanical keyboard", "MS-202": "Wireless mouse"}
ADDRESS = {"name": "Alice", "street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
ALICE, BOB = bearer("alice", CUSTOMER), bearer("bob", CUSTOMER)
AN_OPERATOR = bearer("olivia", OPERATOR)


class OrderApi:
    def __init__(self, client, sessions) -> None:
        self.client = client
        self.sessions = sessions

    def place(self, *items: tuple[str, int], caller=ALICE, key: str | None = None, **body):
        headers = {**caller, **({"Idempotency-Key": key} if key else {})}
        request = {"items": [{"sku": sku, "quantity": q} for sku, q in items], "shipping_address": ADDRESS, **body}
        return self.client.post("/orders", json=request, headers=headers)

    def placed(self, *items: tuple[str, int], caller=ALICE) -> str:
        response = self.place(*items, caller=caller)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def count(self, table) -> int:
        with self.sessions.connect() as session:
            return session.execute(select(func.count()).select_from(table)).scalar()


@pytest.fixture
def orders(service_database, identity_provider):
    with service_database("order") as (sessions, url):
        with sessions.begin() as session:
            for sku, name in LISTED.items():  # as the Warehouse's announcements would have
                db.list_sku(session, sku, name)
        settings = settings_of(OrderSettings, url, identity_provider, max_units_per_line=5, max_units_per_order=8)
        with in_process(Service(settings=settings, api=api.router)) as client:
            yield OrderApi(client, sessions)


def test_a_placed_order_is_stored_with_its_placed_event_and_the_message_that_starts_its_process(orders):
    response = orders.place(("KB-101", 2), ("MS-202", 1), ("KB-101", 1), accept_partial_shipments=False)

    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert (order["customer_id"], order["status"], order["accepts_partial"]) == ("alice", "PLACED", False)
    assert order["items"] == [{"sku": "KB-101", "quantity": 3}, {"sku": "MS-202", "quantity": 1}]
    assert [(t["status"], t["what"]) for t in order["timeline"]] == [("PLACED", "order placed")]
    [(event_type, data)] = events_of(orders.sessions, order["id"])
    assert event_type == OrderPlaced.event_type
    assert data == {"order_id": order["id"], "customer_id": "alice",
                    "items": [{"sku": "KB-101", "quantity": 3}, {"sku": "MS-202", "quantity": 1}]}
    [(name, message)] = messages_of(orders.sessions, order["id"])
    assert name == ORDER_PLACED.name and message["message_id"] == order["id"]
    started = message["variables"]
    assert (started["orderId"], started["acceptsPartial"], started["totalUnits"], started["earlierOrders"]) == (
        order["id"], False, 4, 0)
    assert "shipping_address" not in str(message) and "Springfield" not in str(message), "no customer data"


def test_a_retry_with_the_same_idempotency_key_answers_the_first_order_and_writes_nothing_more(orders):
    first = orders.place(("KB-101", 1), key="checkout-1")
    again = orders.place(("KB-101", 1), key="checkout-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert orders.count(db.orders) == 1 and len(outbox_rows(orders.sessions, first.json()["id"])) == 2
    other = orders.place(("KB-101", 2), key="checkout-1")
    assert other.status_code == 409, other.text
    assert orders.count(db.orders) == 1


def test_items_the_catalog_or_the_limits_refuse_are_named_by_their_place_and_nothing_is_stored(orders):
    response = orders.place(("KB-101", 1), ("XX-999", 1), ("MS-202", 6))

    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"items.1.sku", "items.2.quantity"}
    assert orders.count(db.orders) == 0 and orders.count(outbox) == 0


def test_a_customer_places_orders_only_for_themselves(orders):
    response = orders.place(("KB-101", 1), customer_id="bob")
    assert response.status_code == 403, response.text
    assert orders.count(db.orders) == 0


def test_an_order_is_shown_to_its_customer_and_operators_and_is_unknown_to_another_customer(orders):
    order_id = orders.placed(("KB-101", 1))

    mine = orders.client.get(f"/orders/{order_id}", headers=ALICE)
    assert mine.status_code == 200 and mine.json()["status"] == "PLACED"
    assert orders.client.get(f"/orders/{order_id}", headers=AN_OPERATOR).json() == mine.json()
    assert orders.client.get(f"/orders/{order_id}", headers=BOB).status_code == 404
    assert orders.client.get("/orders/no-such-order", headers=ALICE).status_code == 404


def test_orders_are_listed_newest_first_a_page_at_a_time_a_customer_seeing_only_their_own(orders):
    alices = [orders.placed(("KB-101", 1)) for _ in range(3)]
    bobs = orders.placed(("MS-202", 1), caller=BOB)

    def listed(caller, **query) -> list[str]:
        response = orders.client.get("/orders", params=query, headers=caller)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()]

    newest_first = list(reversed(alices))
    assert listed(ALICE, limit=2) == newest_first[:2] and listed(ALICE, limit=2, offset=2) == newest_first[2:]
    assert listed(BOB) == [bobs]
    assert listed(AN_OPERATOR) == [bobs, *newest_first]
    assert listed(AN_OPERATOR, status="COMPLETED") == []


def test_cancelling_a_running_order_is_pending_and_asks_its_process_to_stop_once(orders):
    order_id = orders.placed(("KB-101", 1))

    response = orders.client.post(f"/orders/{order_id}/cancel", headers=ALICE)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["status"], answer["cancellation"]["outcome"]) == ("PLACED", "pending")
    again = orders.client.post(f"/orders/{order_id}/cancel", headers=ALICE)
    assert again.status_code == 202 and again.json()["cancellation"] == answer["cancellation"]

    assert [t for t, _ in events_of(orders.sessions, order_id)] == [OrderPlaced.event_type,
                                                                    OrderCancellationRequested.event_type]
    [(name, message)] = messages_of(orders.sessions, order_id)[1:]
    assert (name, message["message_id"]) == (CANCEL_REQUESTED.name, f"{CANCEL_REQUESTED.name}:{order_id}")
    shown = orders.client.get(f"/orders/{order_id}", headers=ALICE).json()
    assert shown["cancellation"]["outcome"] == "pending"
    assert [t["what"] for t in shown["timeline"]] == ["order placed", "cancellation requested by alice"]


def test_cancelling_a_completed_order_is_refused_with_the_reason_on_the_order(orders):
    order_id = orders.placed(("KB-101", 1))
    with orders.sessions.begin() as session:  # as the process's last step would have left it
        session.execute(update(db.orders).where(db.orders.c.id == order_id).values(status="COMPLETED"))

    response = orders.client.post(f"/orders/{order_id}/cancel", headers=ALICE)

    assert response.status_code == 409, response.text
    shown = orders.client.get(f"/orders/{order_id}", headers=ALICE).json()
    assert shown["status"] == "COMPLETED" and shown["cancellation"]["outcome"] == "refused"
    assert shown["cancellation"]["reason"] in response.json()["detail"]
    assert [name for name, _ in messages_of(orders.sessions, order_id)] == [ORDER_PLACED.name], "nothing to stop"


def test_another_customers_order_cannot_be_cancelled(orders):
    order_id = orders.placed(("KB-101", 1), caller=BOB)
    assert orders.client.post(f"/orders/{order_id}/cancel", headers=ALICE).status_code == 404
    assert len(outbox_rows(orders.sessions, order_id)) == 2


def test_a_request_without_a_valid_token_or_the_role_is_refused(orders):
    assert orders.client.get("/orders").status_code == 401
    assert orders.client.get("/orders", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert orders.client.delete("/customers/alice/personal-data", headers=ALICE).status_code == 403


def test_in_process_the_app_is_ready_with_its_database_and_asks_no_broker(orders):
    response = orders.client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["dependencies"] == {"database": {"up": True}}
