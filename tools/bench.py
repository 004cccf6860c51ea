"""`make bench`: place many orders at once on the running stack and print how long each stage took.

Figures, not pass/fail: throughput of the whole path and percentiles per status, read from each
order's own timeline. Every order is for a SKU stocked for the run, so all take the full-stock path;
the simulated courier's delay (FULFIL_DELIVERY_COURIER_DELAY_SECONDS, 3 s by default) is part of it.
"""
from __future__ import annotations

import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx

from tools.orders import FINAL, SAMPLE_ADDRESS
from tools.stack.config import StackSettings
from tools.stack.errors import StackError


def _percentiles(values: list[float]) -> str:
    """p50, p95 and max, aligned in columns."""
    if not values:
        return "      -"
    if len(values) == 1:
        values = values * 2  # quantiles() needs two points; one value is its own p50, p95 and max
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[49]:7.2f} {cuts[94]:7.2f} {max(values):7.2f}"


class Progress:
    """How many orders have finished: one line rewritten in place on a terminal, a line per change in a log."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.shown = -1
        self.terminal = sys.stdout.isatty()

    def show(self, done: int, seconds: float, final: bool = False) -> None:
        line = f"   {done}/{self.total} finished " + (f"in {seconds:.1f}s" if final else f"after {seconds:.0f}s")
        if self.terminal:
            print(f"\r{line}", end="\n" if final else "", flush=True)
        elif final or done != self.shown:
            print(line, flush=True)
        self.shown = done


def bench(settings: StackSettings, orders: int = 50, concurrency: int = 10, timeout: float = 300) -> None:
    order_base = f"http://127.0.0.1:{settings.order_port}"
    warehouse_base = f"http://127.0.0.1:{settings.warehouse_port}"
    with httpx.Client(base_url=order_base, timeout=30) as order_api, \
            httpx.Client(base_url=warehouse_base, timeout=30) as warehouse_api:
        try:
            order_api.get("/health").raise_for_status()
        except httpx.HTTPError as exc:
            raise StackError(f"the order service at {order_base} is not answering ({exc}); "
                             "start the stack with `make up`") from exc
        sku = f"BENCH-{uuid.uuid4().hex[:8]}"
        warehouse_api.put(f"/stock/{sku}", json={"on_hand": orders, "name": "benchmark item"}).raise_for_status()
        print(f">> placing {orders} orders of 1x {sku}, {concurrency} at a time")

        def place(n: int) -> tuple[str, float]:
            started = time.monotonic()
            response = order_api.post("/orders", json={
                "customer_id": f"bench-{n}", "items": [{"sku": sku, "quantity": 1}],
                "shipping_address": SAMPLE_ADDRESS})
            if response.status_code != 201:
                raise StackError(f"placing order {n} answered {response.status_code}: {response.text}")
            return response.json()["id"], time.monotonic() - started

        run_started = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            placed = list(pool.map(place, range(orders)))
        placing = time.monotonic() - run_started
        print(f"   placed in {placing:.1f}s ({orders / placing:.1f} orders/s accepted over HTTP)")

        pending = {order_id for order_id, _ in placed}
        progress = Progress(orders)
        finished: dict[str, dict] = {}
        while pending and time.monotonic() - run_started < timeout:
            for order_id in list(pending):
                order = order_api.get(f"/orders/{order_id}").json()
                if order["status"] in FINAL:
                    finished[order_id] = order
                    pending.discard(order_id)
            if pending:
                progress.show(len(finished), time.monotonic() - run_started)
                time.sleep(0.5)
        elapsed = time.monotonic() - run_started
        progress.show(len(finished), elapsed, final=True)
        if pending:
            raise StackError(f"{len(pending)} orders did not finish within {timeout:.0f}s, e.g. {next(iter(pending))}; "
                             "see `make incidents` and `make logs`")

    outcomes = statistics.multimode(o["status"] for o in finished.values())
    print(f"\nthroughput: {orders / elapsed:.2f} orders/s end to end; outcome: "
          + ", ".join(f"{s} x{sum(o['status'] == s for o in finished.values())}" for s in outcomes))
    print("\nseconds after placing          p50     p95     max")
    print(f"  {'HTTP answer to POST /orders':<28}{_percentiles([seconds for _, seconds in placed])}")
    reached: dict[str, list[float]] = {}
    for order in finished.values():
        timeline = [(datetime.fromisoformat(e["at"]), e["status"]) for e in order["timeline"]]
        start = datetime.fromisoformat(order["created_at"])
        seen = set()
        for at, status in sorted(timeline):
            if status not in seen:
                seen.add(status)
                reached.setdefault(status, []).append((at - start).total_seconds())
    for status, seconds in sorted(reached.items(), key=lambda item: statistics.median(item[1])):
        print(f"  {status:<28}{_percentiles(seconds)}")
