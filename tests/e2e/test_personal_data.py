"""Customer data in its place: erased on request once no order needs it, and never in an event, an engine
variable or an SQL error."""
from __future__ import annotations

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.runtime.db import make_engine
from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status
from tools.orders import FINAL
from tools.stack import keycloak
from tools.stack.postgres import scratch_database

BOB = keycloak.CUSTOMER_USERS[1]
ADDRESS = new_order_request()["shipping_address"]


@pytest.fixture
def bobs_orders(stack, login):
    """The Order API as the demo customer Bob, whose data this module erases (every other test orders as Alice)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.order_port}", timeout=10, auth=login(BOB)) as client:
        yield client


def erase(order_api, login, customer_id: str) -> httpx.Response:
    return order_api.delete(f"/customers/{customer_id}/personal-data", auth=login())


def test_a_customers_personal_data_is_erased_once_no_open_order_needs_it_and_the_orders_keep_their_history(
        stack, login, order_api, bobs_orders, fresh_sku):
    bob = jwt.decode(login(BOB).access_token(), options={"verify_signature": False})["sub"]
    # Bob's order waits for stock that never comes: the courier will still need his address.
    waiting = bobs_orders.post("/orders", json=new_order_request(
        accept_partial_shipments=False, items=[{"sku": fresh_sku(0), "quantity": 1}])).json()["id"]
    wait_for_status(bobs_orders, waiting, "AWAITING_STOCK")
    refused = erase(order_api, login, bob)
    assert refused.status_code == 409, refused.text
    assert waiting in refused.json()["detail"] and "not final" in refused.json()["detail"]

    # Once every order of his is final (another test may have left one open too), his data can go.
    for order in bobs_orders.get("/orders", params={"limit": 500}).json():
        if order["status"] not in FINAL:
            bobs_orders.post(f"/orders/{order['id']}/cancel")
    eventually(lambda: all(o["status"] in FINAL for o in bobs_orders.get("/orders", params={"limit": 500}).json()),
               timeout=60, what="Bob's orders to be final")
    erased = erase(order_api, login, bob)
    assert erased.status_code == 200, erased.text
    assert waiting in erased.json()["erased_orders"]

    address = order_api.get(f"/orders/{waiting}/shipping-address", auth=login.service())
    assert address.status_code == 410 and "erased on request" in address.json()["detail"]
    order = bobs_orders.get(f"/orders/{waiting}").json()
    assert order["status"] == "CANCELLED" and [line["sku"] for line in order["items"]]
    assert order["timeline"][-1]["what"].startswith("personal data erased on request by ")
    assert [e["what"] for e in order["timeline"]][0] == "order placed"  # the history stays
    # Asking again erases nothing more and says so.
    assert erase(order_api, login, bob).json()["erased_orders"] == []


def test_an_sql_error_names_the_statement_but_not_the_values_bound_to_it(stack):
    with scratch_database(stack, "hidden_parameters") as url:
        engine = make_engine(url)
        with engine.begin() as db:
            db.execute(text("CREATE TABLE t (name varchar(5))"))
        with pytest.raises(DBAPIError) as failed, engine.begin() as db:
            db.execute(text("INSERT INTO t (name) VALUES (:name)"), {"name": ADDRESS["street"]})
        engine.dispose()
    assert "INSERT INTO t" in str(failed.value)
    assert ADDRESS["street"] not in str(failed.value)
