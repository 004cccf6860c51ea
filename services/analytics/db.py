"""Analytics facts: one row per order, backorder, production and deadline breach; figures are queries."""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

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
)

backorder_facts = Table(
    "backorder_facts", metadata,
    Column("request_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False, index=True),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

production_facts = Table(
    "production_facts", metadata,
    Column("request_id", String(36), primary_key=True),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("produced_at", DateTime(timezone=True), nullable=False),
)

deadline_breaches = Table(
    "deadline_breaches", metadata,
    Column("event_id", String(200), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
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
