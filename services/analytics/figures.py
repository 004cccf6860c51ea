"""The figures, from the stored facts: the same facts always give the same figures."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from services.analytics import db
from services.analytics.domain import per_minute, percentile, share


def compute(session: Session, now: datetime | None = None) -> dict:
    now = now or datetime.now(timezone.utc)
    orders = db.all_rows(session, db.order_facts)
    backorders = db.all_rows(session, db.backorder_facts)
    production = db.all_rows(session, db.production_facts)
    breaches = db.all_rows(session, db.deadline_breaches)
    lead_times = [(o.delivered_at - o.placed_at).total_seconds() for o in orders if o.placed_at and o.delivered_at]
    reserved = [o for o in orders if o.first_pass_full is not None]
    open_backorders = [b for b in backorders if b.closed_at is None]
    return {
        "orders": {
            "placed": len([o for o in orders if o.placed_at]),
            "completed": len([o for o in orders if o.completed_at]),
            "cancelled": len([o for o in orders if o.cancelled_at]),
            "placed_per_minute": per_minute([o.placed_at for o in orders if o.placed_at]),
            "completed_per_minute": per_minute([o.completed_at for o in orders if o.completed_at]),
            "cancelled_per_minute": per_minute([o.cancelled_at for o in orders if o.cancelled_at]),
        },
        "lead_time_seconds": {"count": len(lead_times), "p50": percentile(lead_times, 50),
                              "p95": percentile(lead_times, 95)},
        "first_pass_fill_rate": {"fully_reserved": len([o for o in reserved if o.first_pass_full]),
                                 "reserved": len(reserved),
                                 "rate": share(len([o for o in reserved if o.first_pass_full]), len(reserved))},
        "open_backorders": {
            "count": len(open_backorders),
            "oldest_age_seconds": max(((now - b.requested_at).total_seconds() for b in open_backorders), default=None),
            "units": sum(b.quantity for b in open_backorders),
        },
        "factory": {"produced_units": sum(p.quantity for p in production),
                    "produced_units_per_minute": _units_per_minute(production)},
        "delivery_deadline_breaches": len(breaches),
    }


def _units_per_minute(production) -> dict[str, int]:
    units: dict[str, int] = {}
    for row in production:
        minute = row.produced_at.strftime("%Y-%m-%dT%H:%MZ")
        units[minute] = units.get(minute, 0) + row.quantity
    return dict(sorted(units.items()))


def metrics(session: Session) -> list[Metric]:
    """The figures as Prometheus metric families, computed when `/metrics` is scraped."""
    return metric_families(compute(session))


def metric_families(figures: dict) -> list[Metric]:
    """The figures as Prometheus metric families; a figure with no value yet (None) is NaN."""
    def number(value) -> float:
        return math.nan if value is None else float(value)

    def single(family: type[Metric], name: str, help_text: str, value) -> Metric:
        return family(name, help_text, value=number(value))

    orders = CounterMetricFamily("fulfilment_orders", "Orders by what happened to them.", labels=["event"])
    for event in ("placed", "completed", "cancelled"):
        orders.add_metric([event], figures["orders"][event])
    lead = GaugeMetricFamily("fulfilment_lead_time_seconds", "Placed-to-delivered lead time.", labels=["quantile"])
    lead.add_metric(["0.5"], number(figures["lead_time_seconds"]["p50"]))
    lead.add_metric(["0.95"], number(figures["lead_time_seconds"]["p95"]))
    backorders = figures["open_backorders"]
    return [
        orders, lead,
        single(GaugeMetricFamily, "fulfilment_first_pass_fill_rate", "Share of orders fully reserved at once.",
               figures["first_pass_fill_rate"]["rate"]),
        single(GaugeMetricFamily, "fulfilment_open_backorders", "Backordered lines still waiting.",
               backorders["count"]),
        single(GaugeMetricFamily, "fulfilment_oldest_backorder_age_seconds", "Age of the oldest open backorder.",
               backorders["oldest_age_seconds"]),
        single(CounterMetricFamily, "fulfilment_factory_produced_units", "Units the factory produced.",
               figures["factory"]["produced_units"]),
        single(CounterMetricFamily, "fulfilment_delivery_deadline_breaches", "Deliveries past their first deadline.",
               figures["delivery_deadline_breaches"]),
    ]
