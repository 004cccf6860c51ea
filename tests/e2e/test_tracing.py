"""An order is one connected trace in Zipkin, with spans from every service that worked on it; with Zipkin down
orders go on as fast as ever, and traces come back with it."""
from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.e2e.conftest import place_and_complete
from tests.e2e.test_cli import fulfil
from tools.stack import zipkin
from tools.stack.processes import kill
from tools.stack.services import readiness, replicas

IN_STOCK = {"order", "warehouse", "delivery"}
# Spans are exported in batches a second apart, and a parent span ends (and is sent) after its children.
TRACE_TIMEOUT = 30


def service_of(span: dict) -> str:
    return span.get("localEndpoint", {}).get("serviceName", "?")


def gaps(spans: list[dict], services: set[str]) -> list[str]:
    """What keeps `spans` from being one trace of `services`: a missing service, a span whose parent is not in
    the trace (a hop that lost the context, or a parent not exported yet), more than one root."""
    found = []
    missing = services - {service_of(span) for span in spans}
    if missing:
        found.append(f"no span from {', '.join(sorted(missing))}")
    ids = {span["id"] for span in spans}
    found += [f"{service_of(s)} span {s.get('name')!r} has a parent {s['parentId']} not in the trace"
              for s in spans if s.get("parentId") and s["parentId"] not in ids]
    roots = [f"{service_of(s)} {s.get('name')!r}" for s in spans if not s.get("parentId")]
    if len(roots) != 1:
        found.append(f"{len(roots)} roots: {roots}")
    return found


def trace_of(zipkin_api: httpx.Client, trace_id: str, services: set[str]) -> list[dict]:
    """The trace's spans from Zipkin's API once they form one tree with a span from each of `services`."""
    deadline = time.monotonic() + TRACE_TIMEOUT
    while True:
        response = zipkin_api.get(f"/api/v2/trace/{trace_id}")
        spans = response.json() if response.status_code == 200 else []
        wrong = gaps(spans, services) if spans else [f"Zipkin answers {response.status_code} {response.text[:200]}"]
        if not wrong:
            return spans
        if time.monotonic() > deadline:
            seen = sorted({f"{service_of(s)}: {s.get('name')}" for s in spans})
            pytest.fail(f"trace {trace_id} is not one trace of {sorted(services)} after {TRACE_TIMEOUT}s: "
                        f"{'; '.join(wrong)}. Spans seen: {seen}")
        time.sleep(0.5)


def traced(order: dict) -> str:
    trace_id = order.get("trace_id")
    assert trace_id and re.fullmatch(r"[0-9a-f]{32}", trace_id), f"the order has no trace id: {order}"
    return trace_id


def test_an_order_in_stock_is_one_trace_from_its_placement_through_warehouse_and_delivery(
        stack, order_api, fresh_sku, zipkin_api):
    order = place_and_complete(order_api, items=[{"sku": fresh_sku(5), "quantity": 3}])
    spans = trace_of(zipkin_api, traced(order), IN_STOCK)
    [root] = [span for span in spans if not span.get("parentId")]
    assert service_of(root) == "order", f"the trace starts with the placement, not {root}"
    assert all(span["traceId"] == order["trace_id"] for span in spans)
    shown = fulfil("order", "show", order["id"])
    assert f"trace: {stack.zipkin_url}/zipkin/traces/{order['trace_id']}" in shown.stdout, shown.stdout + shown.stderr


def test_a_backordered_order_is_one_trace_that_takes_in_the_factory(order_api, fresh_sku, zipkin_api):
    in_stock, short = fresh_sku(4), fresh_sku(1)
    order = place_and_complete(order_api, items=[{"sku": in_stock, "quantity": 2}, {"sku": short, "quantity": 3}])
    trace_of(zipkin_api, traced(order), IN_STOCK | {"factory"})


@pytest.mark.kills_components
def test_with_zipkin_killed_orders_complete_as_fast_and_traces_come_back_with_it(
        stack, order_api, fresh_sku, zipkin_api):
    sku = fresh_sku(20)
    started = time.monotonic()
    place_and_complete(order_api, items=[{"sku": sku, "quantity": 1}])
    usual = time.monotonic() - started
    assert kill(stack, zipkin.NAME), "Zipkin was not running"
    try:
        # Several in a row: the exporters' queues fill and their sends fail meanwhile, which must cost nothing.
        for _ in range(3):
            started = time.monotonic()
            order = place_and_complete(order_api, items=[{"sku": sku, "quantity": 1}])
            took = time.monotonic() - started
            assert took < 2 * usual + 5, f"order {order['id']} took {took:.1f}s with Zipkin down, {usual:.1f}s before"
            traced(order)  # the context still travels: the order still gets its trace id
        not_ready = {r.name: line for r in replicas(stack) if not (line := readiness(stack, r)).startswith("ready")}
        assert not_ready == {}, "Zipkin is no dependency a service's readiness may hang on"
    finally:
        zipkin.start(stack)  # as `make up` starts what is missing
        zipkin.wait_ready(stack)
    order = place_and_complete(order_api, items=[{"sku": sku, "quantity": 1}])
    trace_of(zipkin_api, traced(order), IN_STOCK)
