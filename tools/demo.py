"""`make demo`: place a few orders against the running stack and print how each one progresses."""
from __future__ import annotations

import time

import httpx

from shared.runtime.auth import TokenUnavailable
from tools.orders import SAMPLE_ADDRESS, wait_until_orderable
from tools.stack import keycloak
from tools.stack.config import StackSettings
from tools.stack.errors import StackError

# Each placed by a demo customer of the realm (logged in with the password the stack generated for them).
ALICE, BOB = keycloak.CUSTOMER_USERS
DEMO_ORDERS = [
    (ALICE, {"items": [{"sku": "KB-101", "quantity": 1}, {"sku": "MS-202", "quantity": 1}]}),
    (BOB, {"items": [{"sku": "MN-303", "quantity": 2}]}),
    (ALICE, {"items": [{"sku": "HS-404", "quantity": 1}, {"sku": "DK-505", "quantity": 1}]}),
]


def demo(settings: StackSettings, timeout: float = 60) -> None:
    base = f"http://127.0.0.1:{settings.order_port}"
    customers = {user: keycloak.login(settings, user) for user in keycloak.CUSTOMER_USERS}
    with httpx.Client(base_url=base, timeout=10, auth=keycloak.login(settings)) as client:
        try:
            client.get("/health").raise_for_status()
        except httpx.HTTPError as exc:
            raise StackError(f"the order service at {base} is not answering ({exc}); "
                             "start the stack with `make up`") from exc
        # On a stack just started, the Order service may not have heard of the Warehouse's catalog yet.
        wait_until_orderable(client, {item["sku"] for _, order in DEMO_ORDERS for item in order["items"]})
        ids = []
        for customer, order in DEMO_ORDERS:
            try:
                response = client.post("/orders", json={**order, "shipping_address": SAMPLE_ADDRESS},
                                       auth=customers[customer])
            except TokenUnavailable as exc:
                raise StackError(f"{customer} cannot log in: {exc}") from exc
            response.raise_for_status()
            ids.append(response.json()["id"])
            print(f"placed {ids[-1]} for {customer}: "
                  + ", ".join(f"{i['quantity']}x {i['sku']}" for i in order["items"]))
        last: dict[str, str] = {}
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            for order_id in ids:
                status = client.get(f"/orders/{order_id}").json()["status"]
                if last.get(order_id) != status:
                    print(f"  {time.monotonic() - started:5.1f}s  {order_id[:8]}  {status}")
                    last[order_id] = status
            if all(s == "COMPLETED" for s in last.values()) and len(last) == len(ids):
                print(f"all {len(ids)} orders completed; see GET {base}/orders/<id> for each timeline")
                return
            time.sleep(0.5)
        raise StackError(f"not every demo order finished within {timeout:.0f}s: {last}; check `make logs`")
