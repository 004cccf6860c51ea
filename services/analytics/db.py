"""Analytics facts: one row per order, backorder, production and deadline breach; figures are queries."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from services.analytics.domain import Totals, totals_of

metadata = MetaData()

order_facts = Table(
    "order_facts", metadata,
    Column("order_id", String(36), primary_key=True),
    Column("placed_at", DateTime(timezone=True)),
    Column("first_pass_full", Boolean),
    Column("reserved_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("delivery_failed_at", DateTime(timezone=True)),
    Column("rejected_at", DateTime(timezone=True)),
)
# When the order ended (completed, cancelled, delivery failed or rejected; LEAST passes over NULLs), NULL while open.
ORDER_ENDED = func.least(order_facts.c.completed_at, order_facts.c.cancelled_at, order_facts.c.delivery_failed_at,
                         order_facts.c.rejected_at)
# What the retention removes, the longest ended first.
Index("order_facts_by_end", ORDER_ENDED)

backorder_facts = Table(
    "backorder_facts", metadata,
    Column("request_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False, index=True),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Index("backorder_facts_by_closing", "closed_at"),
)

production_facts = Table(
    "production_facts", metadata,
    Column("request_id", String(36), primary_key=True),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("produced_at", DateTime(timezone=True), nullable=False),
    Index("production_facts_by_age", "produced_at"),
)

deadline_breaches = Table(
    "deadline_breaches", metadata,
    Column("event_id", String(200), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("deadline_breaches_by_age", "at"),
)

# What the facts the retention removed had added to the all-time figures (domain.Totals); one row.
retired_totals = Table(
    "retired_totals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in Totals().as_dict()),
)


def record_order(session: Connection, order_id: str, **facts) -> None:
    """Upsert: each fact is set once, and a later event never erases an earlier one."""
    session.execute(_record_order(tuple(sorted(facts))), {"order_id": order_id, **facts})


@functools.cache
def _record_order(facts: tuple[str, ...]):
    # One statement per set of facts an event brings (a handful), built once: building one costs SQLAlchemy
    # more CPU than running it, and every event of an order comes here.
    statement = insert(order_facts)
    if not facts:
        return statement.on_conflict_do_nothing()
    return statement.on_conflict_do_update(
        index_elements=["order_id"],
        set_={name: func.coalesce(order_facts.c[name], statement.excluded[name]) for name in facts},
    )


def record_backorder(session: Connection, *, request_id: str, order_id: str, sku: str, quantity: int,
                     at: datetime) -> None:
    session.execute(insert(backorder_facts).values(request_id=request_id, order_id=order_id, sku=sku,
                                                   quantity=quantity, requested_at=at).on_conflict_do_nothing())


def close_backorders(session: Connection, *, at: datetime, order_id: str | None = None,
                     request_id: str | None = None) -> None:
    condition = (backorder_facts.c.order_id == order_id) if order_id else (backorder_facts.c.request_id == request_id)
    session.execute(update(backorder_facts).where(condition, backorder_facts.c.closed_at.is_(None))
                    .values(closed_at=at))


def record_production(session: Connection, *, request_id: str, sku: str, quantity: int, at: datetime) -> None:
    session.execute(insert(production_facts).values(request_id=request_id, sku=sku, quantity=quantity,
                                                    produced_at=at).on_conflict_do_nothing())


def record_breach(session: Connection, *, event_id: str, order_id: str, at: datetime) -> None:
    session.execute(insert(deadline_breaches).values(event_id=event_id, order_id=order_id, at=at)
                    .on_conflict_do_nothing())


def all_rows(session: Connection, table: Table):
    return session.execute(select(table)).all()


# Built once, as every delivery of an order comes here.
_SET_DELIVERED = (update(order_facts).where(order_facts.c.order_id == bindparam("order_key"))
                  .values(delivered_at=func.greatest(func.coalesce(order_facts.c.delivered_at, bindparam("at")),
                                                     bindparam("at"))))


def set_delivered(session: Connection, order_id: str, at: datetime) -> None:
    session.execute(_SET_DELIVERED, {"order_key": order_id, "at": at})


def retired_totals_of(session: Connection) -> Totals:
    """Locked for share until the transaction ends: a retention round, which moves facts into these totals, is
    then either wholly seen by the caller's later reads or not at all."""
    row = session.execute(select(retired_totals).where(retired_totals.c.id == 1).with_for_update(read=True)).one()
    return Totals(**{name: row._mapping[name] for name in Totals().as_dict()})


def retire_old_facts(session: Connection, kept_for: timedelta, batch: int = 1000) -> int:
    """Remove up to `batch` facts of each kind older than `kept_for`, oldest first, adding what they counted to the
    retired totals; returns how many went.

    `kept_for` outlasts the longest chart, so the charts lose nothing; an open order's facts and an open backorder
    stay however old (the open figures count them).
    """
    cutoff = func.now() - kept_for

    def oldest(key: Column, age) -> Select:
        # Another replica's round takes others.
        return select(key).where(age < cutoff).order_by(age).limit(batch).with_for_update(skip_locked=True)

    orders = session.execute(delete(order_facts).where(order_facts.c.order_id.in_(
        oldest(order_facts.c.order_id, ORDER_ENDED))).returning(*order_facts.c)).all()
    production = session.execute(delete(production_facts).where(production_facts.c.request_id.in_(
        oldest(production_facts.c.request_id, production_facts.c.produced_at)))
        .returning(production_facts.c.quantity)).all()
    breaches = session.execute(delete(deadline_breaches).where(deadline_breaches.c.event_id.in_(
        oldest(deadline_breaches.c.event_id, deadline_breaches.c.at))).returning(deadline_breaches.c.event_id)).all()
    closed_backorders = session.execute(delete(backorder_facts).where(backorder_facts.c.request_id.in_(
        oldest(backorder_facts.c.request_id, backorder_facts.c.closed_at)))).rowcount
    retired = totals_of(orders, production, breaches)
    if retired != Totals():
        session.execute(update(retired_totals).where(retired_totals.c.id == 1).values(
            {name: retired_totals.c[name] + added for name, added in retired.as_dict().items()}))
    return len(orders) + len(production) + len(breaches) + closed_backorders
