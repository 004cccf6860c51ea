"""The Order API as the tools use it: which statuses are final, an address for orders they place, and when a SKU can
be ordered."""
from __future__ import annotations

import time
from collections.abc import Iterable

import httpx

from tools.stack.errors import StackError

FINAL = frozenset({"COMPLETED", "CANCELLED", "DELIVERY_FAILED", "REJECTED"})
SAMPLE_ADDRESS = {"name": "Sample Customer", "street": "1 Sample Street", "city": "Zurich", "postal_code": "8001",
                  "country": "CH"}


def orderable(order_api: httpx.Client, sku: str) -> bool:
    """Whether the Order service takes orders for `sku` yet (`GET /catalog/{sku}`, as a customer or an operator)."""
    answer = order_api.get(f"/catalog/{sku}")
    if answer.status_code == 404:
        return False
    answer.raise_for_status()
    return True


def wait_until_orderable(order_api: httpx.Client, skus: Iterable[str], timeout: float = 60) -> None:
    """Wait until the Order service takes orders for every one of `skus`.

    The Warehouse announces a SKU it adds by an event, which the Order service takes in a moment later: an order
    placed right after adding the SKU would be refused (422, not in the catalog).
    """
    deadline = time.monotonic() + timeout
    waiting = list(skus)
    while waiting := [sku for sku in waiting if not orderable(order_api, sku)]:
        if time.monotonic() > deadline:
            raise StackError(f"the Order service has not heard of {', '.join(waiting)} after {timeout:g} s: the "
                             "Warehouse announces SKUs on warehouse.events through its outbox; see `make status`")
        time.sleep(0.25)
