"""The analytics service's figures follow the orders this test places, and a replay changes nothing."""
from __future__ import annotations

import threading
import uuid

from services.analytics.consumers import SUBSCRIPTIONS
from shared.contracts.registry import ANALYTICS
from shared.runtime.db import make_engine
from shared.runtime.inbox import EventConsumer
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.relay import kafka_producer
from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status, wait_until_consumed
from tests.e2e.test_published_events import all_records


def figures(analytics_api) -> dict:
    # The longest window, so nothing this test counts over time falls out of it while the test runs.
    return analytics_api.get("/figures", params={"minutes": 7 * 24 * 60}).json()


def over_time(figures: dict, series: str) -> int:
    return sum(figures["over_time"][series])


def test_figures_count_the_orders_placed_completed_cancelled_and_produced(
        stack, order_api, analytics_api, fresh_sku):
    for topic in ANALYTICS.consumed_topics:  # a quiet start: what earlier tests published is already counted
        wait_until_consumed(stack, "analytics-service", topic)
    before = figures(analytics_api)
    in_stock, short = fresh_sku(5), fresh_sku(0)
    full = order_api.post("/orders", json=new_order_request(items=[{"sku": in_stock, "quantity": 1}])).json()["id"]
    backordered = order_api.post("/orders", json=new_order_request(items=[{"sku": short, "quantity": 3}])).json()["id"]
    wait_for_status(order_api, full, "COMPLETED")
    wait_for_status(order_api, backordered, "COMPLETED")

    def caught_up():
        now = figures(analytics_api)
        return now["orders"]["completed"] == before["orders"]["completed"] + 2 and now
    after = eventually(caught_up, timeout=20, what="analytics to see both completions")
    assert after["orders"]["placed"] == before["orders"]["placed"] + 2
    assert after["factory"]["produced_units"] == before["factory"]["produced_units"] + 3
    fill_before, fill_after = before["first_pass_fill_rate"], after["first_pass_fill_rate"]
    assert fill_after["reserved"] == fill_before["reserved"] + 2
    assert fill_after["fully_reserved"] == fill_before["fully_reserved"] + 1
    assert after["lead_time_seconds"]["count"] == before["lead_time_seconds"]["count"] + 2
    assert after["lead_time_seconds"]["p95"] >= after["lead_time_seconds"]["p50"] > 0
    for series, more in (("orders_placed", 2), ("orders_completed", 2), ("factory_units", 3)):
        assert over_time(after, series) == over_time(before, series) + more, series
    assert sum(b["count"] for b in after["lead_time_seconds"]["histogram"]) == after["lead_time_seconds"]["count"]
    # The same figures for an operator's Prometheus, computed again at most every 15 s.
    completed = f'fulfil_orders_total{{event="completed"}} {float(after["orders"]["completed"])!r}'
    eventually(lambda: completed in analytics_api.get("/figures/metrics").text, timeout=40,
               what="/figures/metrics to count both completions")


def test_consuming_everything_again_from_offset_zero_gives_the_same_figures(stack, analytics_api):
    before = figures(analytics_api)
    sessions = make_engine(stack.database_url("analytics"))
    replay = EventConsumer(
        name="analytics", bootstrap=stack.kafka_bootstrap, group_id=f"analytics-replay-{uuid.uuid4()}",
        topics=ANALYTICS.consumed_topics, subscriptions=SUBSCRIPTIONS, sessions=sessions,
        units=UnitsOfWork(sessions, ANALYTICS), dead_letter_topic=ANALYTICS.dead_letter_topic,
        producer=kafka_producer(stack.kafka_bootstrap))
    total = sum(len(all_records(stack, topic)) for topic in ANALYTICS.consumed_topics)
    handled = []
    original = replay.handle
    replay.handle = lambda message: handled.append(original(message)) or handled[-1]
    stop = threading.Event()
    thread = threading.Thread(target=replay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        eventually(lambda: len(handled) >= total, timeout=90, what=f"the replay to read all {total} records")
    finally:
        stop.set()
        thread.join(15)
    assert handled.count("duplicate") > 0 and handled.count("handled") == 0, "the inbox absorbed every replayed event"
    after = figures(analytics_api)
    for key in ("orders", "first_pass_fill_rate", "factory", "delivery_deadline_breaches", "lead_time_seconds"):
        assert after[key] == before[key], key
