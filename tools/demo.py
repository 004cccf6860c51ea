"""`make demo`: place a few orders against the running stack and print how each one progresses."""
from __future__ import annotations

import time

import httpx

from tools.orders import SAMPLE_ADDRESS
from tools.stack.config import StackSettings
from tools.stack.errors import StackError

DEMO_ORDERS = [
    {"customer_id": "demo-alice", "items": [{"sku": "KB-101", "quantity": 1}, {"sku": "MS-202", "quantity": 1}]},
    {"customer_id": "demo-bob", "items": [{"sku": "MN-303", "quantity": 2}]},
    {"customer_id": "demo-carol", "items": [{"sku": "HS-404", "quantity": 1}, {"sku": "DK-505", "quantity": 1}]},
]


def demo(settings: StackSettings, timeout: float = 60) -> None:
    base = f"http://127.0.0.1:{settings.order_port}"
    with httpx.Client(base_url=base, timeout=10) as client:
        try:
            client.get("/health").raise_for_status()
        except httpx.HTTPError as exc:
            raise StackError(f"the order service at {base} is not answering ({exc}); "
                             "start the stack with `make up`") from exc
        ids = []
        for order in DEMO_ORDERS:
            response = client.post("/orders", json={**order, "shipping_address": SAMPLE_ADDRESS})
            response.raise_for_status()
            ids.append(response.json()["id"])
            print(f"placed {ids[-1]} for {order['customer_id']}: "
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
