"""Orders are placed only for SKUs in the catalog and within their limits: the Warehouse announces each SKU it adds
(sku-listed), the Order service takes orders for it from then on, and refuses any other with a 422 naming the item."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from services.order.settings import OrderSettings
from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import place_and_complete

pytestmark = pytest.mark.usefixtures("invariants")


def orders_stored(service_db) -> int:
    with service_db("order") as db:
        return db.execute(text("SELECT count(*) FROM orders")).scalar()


def test_an_order_naming_a_sku_not_in_the_catalog_gets_a_422_naming_the_item_and_creates_nothing(
        order_api, service_db):
    sku = f"NOT-LISTED-{uuid.uuid4().hex[:8]}"
    before = orders_stored(service_db)
    response = order_api.post("/orders", json=new_order_request(
        items=[{"sku": "KB-101", "quantity": 1}, {"sku": sku, "quantity": 1}]))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem.pop("title")  # the status's phrase, which differs between Python versions
    assert problem == {"type": "tag:fulfilment.example,2026:problems/invalid-request", "status": 422,
                       "instance": "/orders", "detail": f"invalid request: items.1.sku: {sku} is not in the catalog",
                       "errors": [{"field": "items.1.sku", "problem": f"{sku} is not in the catalog"}]}
    assert orders_stored(service_db) == before
    assert order_api.get(f"/catalog/{sku}").status_code == 404


def test_a_sku_the_warehouse_adds_becomes_orderable_and_its_order_completes(order_api, warehouse_api):
    sku = f"T-{uuid.uuid4().hex[:8]}"
    assert order_api.get(f"/catalog/{sku}").status_code == 404
    added = warehouse_api.put(f"/stock/{sku}", json={"on_hand": 2, "name": "catalog test item"})
    assert added.status_code == 201, added.text
    listed = eventually(lambda: (r := order_api.get(f"/catalog/{sku}")).status_code == 200 and r.json(),
                        what=f"the Order service to hear of {sku}")
    assert (listed["sku"], listed["name"]) == (sku, "catalog test item")
    order = place_and_complete(order_api, items=[{"sku": sku, "quantity": 2}])
    assert order["items"] == [{"sku": sku, "quantity": 2}]


def test_an_order_over_its_unit_limits_gets_a_422_naming_the_item_that_goes_over(order_api, fresh_sku, service_db):
    """The incident this prevents: 100 items of 10,000 units of one SKU took all its free stock and asked the
    factory for a million units."""
    limits = OrderSettings().order_limits()
    sku = fresh_sku(0)
    before = orders_stored(service_db)
    response = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 10_000}] * 100))
    assert response.status_code == 422, response.text
    first = response.json()["errors"][0]
    assert first == {"field": f"items.{limits.max_units_per_line // 10_000}.quantity",
                     "problem": f"{(limits.max_units_per_line // 10_000 + 1) * 10_000} units of {sku}; an order "
                                f"takes at most {limits.max_units_per_line} of one SKU"}
    assert orders_stored(service_db) == before
