"""The figures, from the stored facts: the same facts at the same moment always give the same figures."""
from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.engine import Connection

from services.analytics import db
from services.analytics.domain import TimeAxis, duration_histogram, percentile, share, totals_of

DEFAULT_WINDOW = timedelta(hours=1)


def compute(session: Connection, now: datetime | None = None, window: timedelta = DEFAULT_WINDOW) -> dict:
    now = now or datetime.now(timezone.utc)
    retired = db.retired_totals_of(session)  # first: the retention's round is seen whole or not at all
    orders = db.all_rows(session, db.order_facts)
    backorders = db.all_rows(session, db.backorder_facts)
    production = db.all_rows(session, db.production_facts)
    breaches = db.all_rows(session, db.deadline_breaches)
    lead_times = [(o.delivered_at - o.placed_at).total_seconds() for o in orders if o.placed_at and o.delivered_at]
    totals = retired + totals_of(orders, production, breaches)
    open_backorders = [b for b in backorders if b.closed_at is None]
    backorder_ages = [(now - b.requested_at).total_seconds() for b in open_backorders]
    axis = TimeAxis.ending_now(now, window)
    return {
        "as_of": now,
        "orders": {
            "placed": totals.placed,
            "completed": totals.completed,
            "cancelled": totals.cancelled,
            "delivery_failed": totals.delivery_failed,
            "rejected": totals.rejected,
            "open": len([o for o in orders if o.placed_at and not _ended_at(o)]),
        },
        "lead_time_seconds": {"count": len(lead_times), "p50": percentile(lead_times, 50),
                              "p95": percentile(lead_times, 95), "histogram": _bins(lead_times)},
        "first_pass_fill_rate": {"fully_reserved": totals.fully_reserved, "reserved": totals.reserved,
                                 "rate": share(totals.fully_reserved, totals.reserved)},
        "open_backorders": {
            "count": len(open_backorders),
            "oldest_age_seconds": max(backorder_ages, default=None),
            "units": sum(b.quantity for b in open_backorders),
            "age_histogram": _bins(backorder_ages),
        },
        "factory": {"produced_units": totals.produced_units},
        "delivery_deadline_breaches": totals.deadline_breaches,
        "over_time": _over_time(axis, orders, backorders, production, breaches),
    }


def _ended_at(order) -> datetime | None:
    """When the order reached a final status (completed, cancelled, delivery failed or rejected); None while open."""
    return min((t for t in (order.completed_at, order.cancelled_at, order.delivery_failed_at, order.rejected_at) if t),
               default=None)


def _bins(seconds: list[float]) -> list[dict]:
    return [asdict(b) for b in duration_histogram(seconds)]


def _over_time(axis: TimeAxis, orders, backorders, production, breaches) -> dict:
    def when(column: str) -> list[datetime]:
        return [getattr(o, column) for o in orders if getattr(o, column)]

    return {
        "bucket_seconds": int(axis.width.total_seconds()),
        "bucket_starts": axis.starts(),
        "orders_placed": axis.counts(when("placed_at")),
        "orders_completed": axis.counts(when("completed_at")),
        "orders_cancelled": axis.counts(when("cancelled_at")),
        "orders_delivery_failed": axis.counts(when("delivery_failed_at")),
        "orders_open": axis.open_at_ends((o.placed_at, _ended_at(o)) for o in orders if o.placed_at),
        "first_pass_fill_rate": axis.shares((o.reserved_at, o.first_pass_full) for o in orders if o.reserved_at),
        "open_backorders": axis.open_at_ends((b.requested_at, b.closed_at) for b in backorders),
        "factory_units": axis.counts((p.produced_at for p in production), (p.quantity for p in production)),
        "deadline_breaches": axis.counts(b.at for b in breaches),
    }


def metrics(session: Connection) -> list[Metric]:
    """The figures as Prometheus metric families, for an operator's scraper (api.py, `/figures/metrics`)."""
    return metric_families(compute(session))


def metric_families(figures: dict) -> list[Metric]:
    """The figures as Prometheus metric families; a figure with no value yet (None) is NaN."""
    def number(value) -> float:
        return math.nan if value is None else float(value)

    def single(family: type[Metric], name: str, help_text: str, value) -> Metric:
        return family(name, help_text, value=number(value))

    orders = CounterMetricFamily("fulfil_orders", "Orders by what happened to them.", labels=["event"])
    for event in ("placed", "completed", "cancelled", "delivery_failed", "rejected"):
        orders.add_metric([event], figures["orders"][event])
    lead = GaugeMetricFamily("fulfil_lead_time_seconds", "Placed-to-delivered lead time.", labels=["quantile"])
    lead.add_metric(["0.5"], number(figures["lead_time_seconds"]["p50"]))
    lead.add_metric(["0.95"], number(figures["lead_time_seconds"]["p95"]))
    backorders = figures["open_backorders"]
    return [
        orders, lead,
        single(GaugeMetricFamily, "fulfil_open_orders", "Orders placed and not yet completed, cancelled, "
               "failed or rejected.", figures["orders"]["open"]),
        single(GaugeMetricFamily, "fulfil_first_pass_fill_rate", "Share of orders fully reserved at once.",
               figures["first_pass_fill_rate"]["rate"]),
        single(GaugeMetricFamily, "fulfil_open_backorders", "Backordered lines still waiting.",
               backorders["count"]),
        single(GaugeMetricFamily, "fulfil_oldest_backorder_age_seconds", "Age of the oldest open backorder.",
               backorders["oldest_age_seconds"]),
        single(CounterMetricFamily, "fulfil_factory_produced_units", "Units the factory produced.",
               figures["factory"]["produced_units"]),
        single(CounterMetricFamily, "fulfil_delivery_deadline_breaches", "Deliveries past their first deadline.",
               figures["delivery_deadline_breaches"]),
    ]
