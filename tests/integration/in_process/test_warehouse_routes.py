"""The Warehouse API in this process: stock read, counted against its version, adjusted, added; what it wrote."""
from __future__ import annotations

import pytest

from services.warehouse import api, commands
from services.warehouse.settings import WarehouseSettings
from shared.contracts.roles import CUSTOMER, OPERATOR
from shared.contracts.warehouse import SERVICE, SkuListed, StockAllocated
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.service import Service
from tests.integration.in_process.conftest import bearer, events_of, in_process, settings_of

AN_OPERATOR = bearer("olivia", OPERATOR)
# The catalog the Warehouse's migrations seed, by SKU.
SEEDED = ["DK-505", "HS-404", "KB-101", "MN-303", "MS-202"]


class StockApi:
    def __init__(self, client, sessions) -> None:
        self.client = client
        self.sessions = sessions

    def get(self, path: str, **params):
        return self.client.get(path, params=params, headers=AN_OPERATOR)

    def put(self, sku: str, body: dict, if_match: str | None = None):
        headers = {**AN_OPERATOR, **({"If-Match": if_match} if if_match else {})}
        return self.client.put(f"/stock/{sku}", json=body, headers=headers)

    def adjust(self, sku: str, quantity: int, reason: str = "found on a shelf", key: str | None = None):
        headers = {**AN_OPERATOR, **({"Idempotency-Key": key} if key else {})}
        return self.client.post(f"/stock/{sku}/adjustments", json={"quantity": quantity, "reason": reason},
                                headers=headers)

    def on_hand(self, sku: str) -> int:
        return self.get(f"/stock/{sku}").json()["on_hand"]


@pytest.fixture
def stock(service_database, identity_provider):
    with service_database("warehouse") as (sessions, url):
        settings = settings_of(WarehouseSettings, url, identity_provider)
        with in_process(Service(settings=settings, api=api.router)) as client:
            yield StockApi(client, sessions)


def test_stock_is_listed_by_sku_a_page_at_a_time(stock):
    first, rest = stock.get("/stock", limit=2), stock.get("/stock", limit=10, offset=2)
    assert first.status_code == rest.status_code == 200
    assert [s["sku"] for s in first.json() + rest.json()] == SEEDED


def test_a_stock_item_answers_with_its_version_as_its_etag_and_an_unknown_one_is_404(stock):
    response = stock.get("/stock/KB-101")
    assert response.status_code == 200, response.text
    item = response.json()
    assert (item["on_hand"], item["reserved"]) == (50, 0)
    assert response.headers["ETag"] == f'"{item["version"]}"'
    assert stock.get("/stock/XX-999").status_code == 404


def test_a_new_sku_is_added_with_its_first_count_and_announced_so_orders_may_name_it(stock):
    response = stock.put("NEW-1", {"on_hand": 7, "name": "Cable"})

    assert response.status_code == 201, response.text
    assert (response.json()["on_hand"], response.headers["ETag"]) == (7, f'"{response.json()["version"]}"')
    assert events_of(stock.sessions, "NEW-1") == [(SkuListed.event_type, {"sku": "NEW-1", "name": "Cable"})]
    assert stock.put("NEW-1", {"on_hand": 9, "name": "Cable"}).status_code == 428, "added once; counted after"
    assert stock.put("NEW-2", {"on_hand": 1}).status_code == 404, "a new SKU needs a name"


def test_a_count_is_taken_only_against_the_version_it_was_made_against(stock):
    etag = stock.get("/stock/MN-303").headers["ETag"]

    counted = stock.put("MN-303", {"on_hand": 25}, if_match=etag)
    assert counted.status_code == 200, counted.text
    assert counted.json()["on_hand"] == 25 and counted.headers["ETag"] != etag
    assert stock.put("MN-303", {"on_hand": 30}, if_match=etag).status_code == 412, "counted against an old version"
    assert stock.put("MN-303", {"on_hand": 30}).status_code == 428
    assert stock.put("MN-303", {"on_hand": 30}, if_match="*").status_code == 200
    assert stock.on_hand("MN-303") == 30


def test_an_adjustment_is_relative_and_a_retry_with_its_key_is_not_applied_again(stock):
    added = stock.adjust("HS-404", 5, key="delivery-note-1")
    again = stock.adjust("HS-404", 5, key="delivery-note-1")

    assert (added.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == added.json()["id"] and added.json()["to_backorders"] == 0
    assert stock.on_hand("HS-404") == 45
    assert stock.adjust("HS-404", 6, key="delivery-note-1").status_code == 409, "the key names another adjustment"
    assert stock.adjust("HS-404", -3, reason="damaged").status_code == 201
    assert stock.on_hand("HS-404") == 42


def test_an_adjustment_refuses_to_remove_more_than_is_free_or_to_change_nothing(stock):
    assert stock.adjust("DK-505", -16).status_code == 409
    zero = stock.adjust("DK-505", 0)
    assert zero.status_code == 422 and [e["field"] for e in zero.json()["errors"]] == ["quantity"]
    assert stock.adjust("XX-999", 1).status_code == 404
    assert stock.on_hand("DK-505") == 15


def test_units_added_go_to_the_order_waiting_for_them_first(stock):
    with UnitsOfWork(stock.sessions, SERVICE)() as uow:
        commands.reserve_stock(uow, "order-1", [("DK-505", 18)])  # 15 reserved, 3 backordered

    response = stock.adjust("DK-505", 5, reason="found")

    assert response.status_code == 201, response.text
    assert response.json()["to_backorders"] == 3
    assert (response.json()["stock"]["on_hand"], response.json()["stock"]["reserved"]) == (2, 18)
    allocated = [data for event_type, data in events_of(stock.sessions, "order-1")
                 if event_type == StockAllocated.event_type]
    assert allocated == [{"order_id": "order-1", "lines": [{"sku": "DK-505", "quantity": 3}]}]


def test_stock_is_an_operators_only(stock):
    assert stock.client.get("/stock", headers=bearer("alice", CUSTOMER)).status_code == 403
    assert stock.client.get("/stock").status_code == 401


def test_an_adjustment_keeps_who_made_it_and_a_token_that_names_nobody_may_read_but_not_change_stock(stock):
    adjusted = stock.adjust("KB-101", 2)
    assert adjusted.status_code == 201 and adjusted.json()["actor"] == "olivia"
    nobody = bearer(None, OPERATOR)
    assert stock.client.get("/stock/KB-101", headers=nobody).status_code == 200
    refused = stock.client.post("/stock/KB-101/adjustments", json={"quantity": 1, "reason": "x"}, headers=nobody)
    assert refused.status_code == 403 and "names nobody" in refused.json()["detail"]
    counted = stock.client.put("/stock/KB-101", json={"on_hand": 3}, headers={**nobody, "If-Match": '"1"'})
    assert counted.status_code == 403
