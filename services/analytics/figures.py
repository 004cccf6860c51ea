"""The figures, from the stored facts: the same facts always give the same figures."""
from __future__ import annotations

from datetime import datetime, timezone

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


def prometheus(figures: dict) -> str:
    """The figures in Prometheus' text exposition format."""
    def number(value) -> str:
        return "NaN" if value is None else repr(float(value))

    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, object]]) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])
        lines.extend(f"{name}{labels} {number(value)}" for labels, value in samples)

    orders = figures["orders"]
    metric("fulfilment_orders_total", "counter", "Orders by what happened to them.",
           [(f'{{event="{e}"}}', orders[e]) for e in ("placed", "completed", "cancelled")])
    lead = figures["lead_time_seconds"]
    metric("fulfilment_lead_time_seconds", "gauge", "Placed-to-delivered lead time.",
           [('{quantile="0.5"}', lead["p50"]), ('{quantile="0.95"}', lead["p95"])])
    metric("fulfilment_first_pass_fill_rate", "gauge", "Share of orders fully reserved at once.",
           [("", figures["first_pass_fill_rate"]["rate"])])
    backorders = figures["open_backorders"]
    metric("fulfilment_open_backorders", "gauge", "Backordered lines still waiting.", [("", backorders["count"])])
    metric("fulfilment_oldest_backorder_age_seconds", "gauge", "Age of the oldest open backorder.",
           [("", backorders["oldest_age_seconds"])])
    metric("fulfilment_factory_produced_units_total", "counter", "Units the factory produced.",
           [("", figures["factory"]["produced_units"])])
    metric("fulfilment_delivery_deadline_breaches_total", "counter", "Deliveries past their first deadline.",
           [("", figures["delivery_deadline_breaches"])])
    return "\n".join(lines) + "\n"
