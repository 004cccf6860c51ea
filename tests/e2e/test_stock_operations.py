"""Operators changing stock while orders use it: a count is checked against the version it was made on,
an adjustment loses no concurrent change, and units either way go to waiting orders first."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import new_order_request
from tests.e2e.conftest import shipments_of, wait_for_status

pytestmark = pytest.mark.usefixtures("invariants")


def waiting_order(order_api, items: dict[str, int], **overrides) -> str:
    """An order that reserved what it could and waits for the rest (the factory's line is paused)."""
    response = order_api.post("/orders", json=new_order_request(
        items=[{"sku": sku, "quantity": quantity} for sku, quantity in items.items()], **overrides))
    assert response.status_code == 201, response.text
    return wait_for_status(order_api, response.json()["id"], "AWAITING_STOCK")["id"]


def levels(warehouse_api, sku: str) -> tuple[int, int]:
    item = warehouse_api.get(f"/stock/{sku}").json()
    return item["on_hand"], item["reserved"]


def test_a_count_made_before_a_reservation_is_refused_and_one_made_after_it_is_accepted(
        order_api, warehouse_api, fresh_sku, paused_production):
    counted, short = fresh_sku(5), fresh_sku(0)
    read = warehouse_api.get(f"/stock/{counted}")
    assert read.status_code == 200 and read.headers["ETag"] == f'"{read.json()["version"]}"'
    # While the operator counts 5 free units, an order reserves 2 of them (and waits for the other SKU,
    # so nothing is picked).
    waiting_order(order_api, {counted: 2, short: 1}, accept_partial_shipments=False)
    assert levels(warehouse_api, counted) == (3, 2)

    stale = warehouse_api.put(f"/stock/{counted}", json={"on_hand": 5}, headers={"If-Match": read.headers["ETag"]})
    assert stale.status_code == 412, stale.text
    assert f"{counted} changed since it was counted" in stale.json()["detail"]
    blind = warehouse_api.put(f"/stock/{counted}", json={"on_hand": 5})
    assert blind.status_code == 428, blind.text
    assert "send If-Match" in blind.json()["detail"]
    assert levels(warehouse_api, counted) == (3, 2), "a refused count changes nothing"

    current = warehouse_api.get(f"/stock/{counted}").headers["ETag"]
    recount = warehouse_api.put(f"/stock/{counted}", json={"on_hand": 4}, headers={"If-Match": current})
    assert recount.status_code == 200, recount.text
    assert (recount.json()["on_hand"], recount.json()["reserved"]) == (4, 2)
    assert recount.headers["ETag"] not in (current, read.headers["ETag"])


def test_an_adjustment_takes_out_free_units_only(order_api, warehouse_api, fresh_sku, paused_production):
    sku, short = fresh_sku(5), fresh_sku(0)
    waiting_order(order_api, {sku: 2, short: 1}, accept_partial_shipments=False)

    too_many = warehouse_api.post(f"/stock/{sku}/adjustments", json={"quantity": -4, "reason": "water damage"})
    assert too_many.status_code == 409, too_many.text
    assert too_many.json()["detail"] == f"{sku}: cannot remove 4 units: only 3 are free, 2 are reserved for orders"
    assert levels(warehouse_api, sku) == (3, 2)

    taken_out = warehouse_api.post(f"/stock/{sku}/adjustments", json={"quantity": -3, "reason": "water damage"})
    assert taken_out.status_code == 201, taken_out.text
    assert taken_out.json()["stock"]["on_hand"] == 0 and taken_out.json()["stock"]["reserved"] == 2


def test_concurrent_adjustments_all_count_and_of_concurrent_counts_on_one_version_exactly_one_wins(
        stack, login, warehouse_api, fresh_sku):
    sku = fresh_sku(0)
    url = f"http://127.0.0.1:{stack.warehouse_port}/stock/{sku}"
    with ThreadPoolExecutor(8) as pool:
        added = list(pool.map(lambda n: httpx.post(f"{url}/adjustments", json={"quantity": 1, "reason": f"box {n}"},
                                                   timeout=30, auth=login()), range(20)))
    assert [r.status_code for r in added] == [201] * 20
    assert levels(warehouse_api, sku) == (20, 0), "no adjustment was lost"

    etag = warehouse_api.get(f"/stock/{sku}").headers["ETag"]
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda n: httpx.put(url, json={"on_hand": 30 + n}, headers={"If-Match": etag},
                                                   timeout=30, auth=login()), range(8)))
    assert sorted(r.status_code for r in counts) == [200] + [412] * 7
    [winner] = [r.json() for r in counts if r.status_code == 200]
    assert levels(warehouse_api, sku) == (winner["on_hand"], 0)


def test_an_adjustment_retried_with_its_idempotency_key_is_applied_once(stack, login, warehouse_api, fresh_sku):
    sku, key = fresh_sku(0), f"adjust-{uuid.uuid4()}"
    url = f"http://127.0.0.1:{stack.warehouse_port}/stock/{sku}/adjustments"
    body = {"quantity": 5, "reason": "delivery note 4711"}
    with ThreadPoolExecutor(4) as pool:
        tries = list(pool.map(lambda _: httpx.post(url, json=body, headers={"Idempotency-Key": key}, timeout=30,
                                                  auth=login()),
                              range(4)))
    assert sorted(r.status_code for r in tries) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in tries}) == 1
    assert levels(warehouse_api, sku) == (5, 0)

    reused = warehouse_api.post(f"/stock/{sku}/adjustments", json={**body, "quantity": 6},
                                headers={"Idempotency-Key": key})
    assert reused.status_code == 409, reused.text
    assert reused.json()["detail"] == (f"Idempotency-Key {key} was used for another adjustment "
                                       f"(+5 {sku}, 'delivery note 4711')")


@pytest.mark.parametrize("how", ["adjustment", "count"])
def test_units_an_operator_adds_go_to_the_waiting_order_first_and_it_ships(
        how, order_api, warehouse_api, fresh_sku, paused_production, service_db):
    sku = fresh_sku(0)
    order_id = waiting_order(order_api, {sku: 2})
    if how == "adjustment":
        response = warehouse_api.post(f"/stock/{sku}/adjustments", json={"quantity": 3, "reason": "found a box"})
        assert response.status_code == 201, response.text
        assert response.json()["to_backorders"] == 2
        stock = response.json()["stock"]
    else:
        etag = warehouse_api.get(f"/stock/{sku}").headers["ETag"]
        response = warehouse_api.put(f"/stock/{sku}", json={"on_hand": 3}, headers={"If-Match": etag})
        assert response.status_code == 200, response.text
        stock = response.json()
    assert (stock["on_hand"], stock["reserved"]) == (1, 2), "2 of the 3 units were reserved for the waiting order"
    wait_for_status(order_api, order_id, "COMPLETED")
    assert shipments_of(service_db, order_id) == [(2, [(sku, 2)])]
