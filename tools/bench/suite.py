"""The suite as a customer meets it: orders placed over HTTP, their end seen in the services' events.

Every order is one unit of a SKU stocked for the run, so all take the full-stock path. Completion comes from
`order.events` on Kafka (the Order service publishes order.completed when the process's last job closes the
order), read by a consumer of the bench's own, so the bench adds no load to the API while it waits; the other
services' events on the way say where an order spent its time.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timezone

import httpx
from confluent_kafka import Message
from sqlalchemy import bindparam, text

from shared.contracts.order import OrderCancelled, OrderCompleted, OrderDeliveryFailed
from shared.contracts.registry import ORDER, PUBLISHERS
from tools.bench.loops import Completions, Feed, Finish, StartRefused
from tools.bench.measure import POLLER_PAUSES, LogCount
from tools.bench.reference import HAPPY_PATH
from tools.invariants import Databases
from tools.orders import FINAL, SAMPLE_ADDRESS, wait_until_orderable
from tools.stack import keycloak
from tools.stack.config import StackSettings
from tools.stack.errors import StackError

ENDINGS = {event.event_type: event is OrderCompleted for event in (OrderCompleted, OrderCancelled, OrderDeliveryFailed)}
# More than any run places; stock never runs out, so no order waits for the factory.
STOCK = 1_000_000
RETRY_PAUSE = 0.5
KEY_PREFIX = "bench-"  # every bench order's Idempotency-Key starts so, then its run's id


class OrderEvents(Feed):
    """Reads every service's events topic from its current end: reports each order's final event, and keeps when
    each event of an order happened (type and time from the CloudEvents headers: no payload is parsed)."""

    def __init__(self, settings: StackSettings, completions: Completions) -> None:
        super().__init__("bench-suite-events", completions, settings.kafka_bootstrap,
                         [service.events_topic for service in PUBLISHERS])
        self.milestones: dict[str, dict[str, float]] = {}  # order id -> event type -> when it happened

    def take(self, record: Message) -> None:
        if record.key() is None:
            return
        headers = dict(record.headers() or [])
        event_type = headers.get("ce_type", b"").decode()
        at = datetime.fromisoformat(headers["ce_time"].decode()).timestamp()
        order_id = record.key().decode()
        self.milestones.setdefault(order_id, {}).setdefault(event_type, at)
        if event_type in ENDINGS:
            self.completions.report(order_id, Finish(at=at, ok=ENDINGS[event_type], seen=time.time()))


class Suite:
    """The suite side of the bench: `open` once, then per phase `begin`, `start` many, `end`; `settle` in between."""

    name = "suite"

    def __init__(self, settings: StackSettings, run: str) -> None:
        self.settings = settings
        self.run = run
        self.sku = f"BENCH-{run}"
        self.run_keys = f"{KEY_PREFIX}{run}-"
        self.http: httpx.AsyncClient | None = None
        self.events: OrderEvents | None = None
        self.databases = Databases(settings)
        self.opened_at = datetime.now(timezone.utc)
        # Counted for the job types the reference has too: a pause of a type with no jobs costs nothing.
        self.poller_pauses = LogCount(settings, POLLER_PAUSES, [job.job_type for job in HAPPY_PATH])
        self.retried = 0  # POST /orders answered 5xx or not at all, sent again with the same Idempotency-Key

    async def open(self) -> int:
        """Stock the run's SKU; returns how many orders of earlier bench runs are still open (they weigh on it)."""
        # Orders are placed as the realm's first demo customer, the stock is set as its operator: each client
        # logs in once and renews its token as it goes, as a real client would.
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.settings.order_port}", timeout=30,
                                      limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
                                      auth=keycloak.login(self.settings, keycloak.CUSTOMER_USERS[0]))
        warehouse = f"http://127.0.0.1:{self.settings.warehouse_port}"
        try:
            response = await self.http.put(f"{warehouse}/stock/{self.sku}",
                                           json={"on_hand": STOCK, "name": "benchmark item"},
                                           auth=keycloak.login(self.settings))
        except httpx.HTTPError as exc:
            raise StackError(f"the warehouse service at {warehouse} is not answering ({exc}); start the stack "
                             "with `make up`") from exc
        if response.status_code != 201:
            raise StackError(f"stocking {self.sku} answered {response.status_code}: {response.text}")
        with httpx.Client(base_url=self.http.base_url, timeout=10, auth=self.http.auth) as orders:
            await asyncio.to_thread(wait_until_orderable, orders, [self.sku])
        return await asyncio.to_thread(self.open_orders, f"{KEY_PREFIX}%")

    async def begin(self, completions: Completions) -> None:
        self.events = OrderEvents(self.settings, completions)
        self.events.start()

    async def start(self, number: int) -> str:
        order = {"items": [{"sku": self.sku, "quantity": 1}], "shipping_address": SAMPLE_ADDRESS}
        headers = {"Idempotency-Key": f"{self.run_keys}{number}"}
        while True:
            try:
                response = await self.http.post("/orders", json=order, headers=headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 500:
                if response.status_code not in (200, 201):
                    raise StartRefused(f"POST /orders answered {response.status_code}: {response.text[:200]}")
                return response.json()["id"]
            self.retried += 1
            await asyncio.sleep(RETRY_PAUSE)

    async def end(self) -> dict[str, dict[str, float]]:
        """Stop reading events; returns when each event of each order happened (order id -> type -> time)."""
        if self.events is None:
            return {}
        self.events.stop()
        return self.events.milestones

    async def settle(self, timeout: float, say: Callable[[str], None]) -> None:
        """Wait until no bench order (of any run) is open and every service has published what its outbox holds,
        so a phase starts on a quiet stack; after `timeout` seconds go on regardless, saying so."""
        deadline = time.monotonic() + timeout
        shown = time.monotonic()
        while waiting := await asyncio.to_thread(self.unsettled):
            if time.monotonic() > deadline:
                say(f"   not settled after {timeout:g} s ({waiting}); going on")
                return
            if time.monotonic() - shown >= 10:
                say(f"   settling: {waiting}")
                shown = time.monotonic()
            await asyncio.sleep(0.5)

    def unsettled(self) -> str:
        """What still moves: this run's orders not final, rows waiting in outboxes ("" when nothing)."""
        open_orders = self.open_orders(f"{self.run_keys}%")
        backlog = 0
        for service in PUBLISHERS:
            with self.databases(service.name) as db:
                backlog += db.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL "
                                           "AND expired_at IS NULL")).scalar()
        return ", ".join(f"{n} {what}" for n, what in ((open_orders, "orders of this run open"),
                                                       (backlog, "outbox rows unpublished")) if n)

    def open_orders(self, keys: str) -> int:
        """Orders not final whose Idempotency-Key is LIKE `keys`."""
        with self.databases(ORDER.name) as db:
            return db.execute(text("SELECT count(*) FROM orders WHERE idempotency_key LIKE :keys "
                                   "AND status NOT IN :final").bindparams(bindparam("final", expanding=True)),
                              {"keys": keys, "final": sorted(FINAL)}).scalar()

    def counters(self) -> dict[str, int]:
        """What could be seen of the suite pushing back, so far in this run."""
        return {**self.poller_pauses.counts(), "HTTP retries": self.retried,
                "outbox retries": self.outbox_failures()}

    def outbox_failures(self) -> int:
        """Outbox rows written during this run that failed to publish at least once (broker busy or down)."""
        total = 0
        for service in PUBLISHERS:
            with self.databases(service.name) as db:
                total += db.execute(text("SELECT count(*) FROM outbox WHERE attempts > 0 AND created_at >= :since"),
                                    {"since": self.opened_at}).scalar()
        return total

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        self.databases.dispose()
