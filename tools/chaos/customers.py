"""The soak's customers: they place orders at a steady rate and cancel some, over HTTP, as patient clients.

A client retries a request that failed or timed out (5xx, refused connection, no answer) with the same
Idempotency-Key, across the Order service's replicas, until it is answered or the client gives up.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from services.delivery.domain import UNDELIVERABLE_POSTAL_CODE
from shared.runtime.auth import TokenUnavailable
from tools.chaos.plan import OrderShape
from tools.orders import SAMPLE_ADDRESS

REQUEST_TIMEOUT = 10.0
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 5.0


@dataclass
class Ledger:
    """What the customers saw: the orders the API accepted, and everything that went wrong on the way."""

    placed: int = 0
    accepted: dict[str, str] = field(default_factory=dict)  # order id -> Idempotency-Key
    # Orders placed after each restart to see the stack work end to end: order id -> Idempotency-Key.
    probes: dict[str, str] = field(default_factory=dict)
    # A 4xx where none is due: (idempotency key or order id, status, problem detail).
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    gave_up_placing: list[str] = field(default_factory=list)  # idempotency keys
    cancel_requested: int = 0
    cancel_answers: dict[int, int] = field(default_factory=dict)  # status -> count
    gave_up_cancelling: list[str] = field(default_factory=list)  # order ids
    retries: int = 0


class PatientClient:
    """Sends one request until it is answered below 500, spreading attempts over the given base URLs."""

    def __init__(self, bases: list[str], give_up_after: float, ledger: Ledger, auth: httpx.Auth) -> None:
        self.bases = bases
        self.give_up_after = give_up_after
        self.ledger = ledger
        self.http = httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=httpx.Limits(max_connections=200), auth=auth)

    async def send(self, method: str, path: str, first_base: int = 0, **kwargs) -> httpx.Response | None:
        """The first answer below 500, or None once the client gives up."""
        deadline = time.monotonic() + self.give_up_after
        delay = FIRST_RETRY_DELAY
        attempt = first_base
        while True:
            base = self.bases[attempt % len(self.bases)]
            attempt += 1
            try:
                response = await self.http.request(method, base + path, **kwargs)
                if response.status_code < 500:
                    return response
            except (httpx.HTTPError, TokenUnavailable):
                pass  # no answer (or no new token while Keycloak is down): the same request again, as a client would
            if time.monotonic() + delay > deadline:
                return None
            self.ledger.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def close(self) -> None:
        await self.http.aclose()


def order_request(shape: OrderShape) -> dict:
    address = {**SAMPLE_ADDRESS, **({"postal_code": UNDELIVERABLE_POSTAL_CODE} if shape.refused_by_courier else {})}
    return {"items": [{"sku": s, "quantity": q} for s, q in shape.items], "shipping_address": address,
            "accept_partial_shipments": shape.accepts_partial}


async def customer(client: PatientClient, run: str, number: int, shape: OrderShape) -> None:
    """Place one order and, if this customer changes their mind, cancel it a little later."""
    ledger = client.ledger
    key = f"chaos-{run}-{number}"
    ledger.placed += 1
    response = await client.send("POST", "/orders", first_base=number, json=order_request(shape),
                                 headers={"Idempotency-Key": key})
    if response is None:
        ledger.gave_up_placing.append(key)
        return
    if response.status_code not in (200, 201):
        ledger.refused.append((key, response.status_code, _detail(response)))
        return
    order_id = response.json()["id"]
    ledger.accepted[order_id] = key
    if shape.cancel_after is None:
        return
    await asyncio.sleep(shape.cancel_after)
    ledger.cancel_requested += 1
    response = await client.send("POST", f"/orders/{order_id}/cancel", first_base=number)
    if response is None:
        ledger.gave_up_cancelling.append(order_id)
        return
    ledger.cancel_answers[response.status_code] = ledger.cancel_answers.get(response.status_code, 0) + 1
    # 202: cancelling; 409: too late (delivered, or its delivery failed). Anything else is wrong.
    if response.status_code not in (202, 409):
        ledger.refused.append((order_id, response.status_code, _detail(response)))


async def probe(client: PatientClient, run: str, number: int, sku: str) -> str | None:
    """One plain order, placed after the `number`th restart; its id once accepted."""
    key = f"chaos-{run}-probe-{number}"
    shape = OrderShape([(sku, 1)], accepts_partial=True, refused_by_courier=False, cancel_after=None)
    response = await client.send("POST", "/orders", first_base=number, json=order_request(shape),
                                 headers={"Idempotency-Key": key})
    if response is None or response.status_code not in (200, 201):
        return None
    client.ledger.probes[response.json()["id"]] = key
    return response.json()["id"]


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:300]
    except ValueError:
        return response.text[:300]
