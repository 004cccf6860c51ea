"""Factory tables and the queries the service needs."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from services.factory.domain import UNSTARTED, ProductionOrder, ProductionStatus, line_runs

metadata = MetaData()
# Produced or withdrawn: nothing changes such a production order any more. Written out, so the retention's query
# and its index share the condition to the letter.
FINISHED = text(f"status <> '{UNSTARTED}'")

production_orders = Table(
    "production_orders", metadata,
    Column("request_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    # REQUESTED -> PRODUCED, or WITHDRAWN while still unstarted
    Column("status", String(16), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("expedited", Boolean, nullable=False, server_default="false"),
    Column("produced_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The replenishment-requested event this order came from: the causation of its items-produced.
    Column("requested_by_event", String(200)),
    # The trace the request came in (shared/runtime/tracing.py): the production continues it, so the items-produced
    # event and what follows from it stay in the order's trace.
    Column("traceparent", String(55)),
    # What the retention removes, the oldest first.
    Index("production_orders_finished", "created_at", postgresql_where=FINISHED),
)


production_line = Table(
    "production_line", metadata,
    Column("id", Integer, primary_key=True),
    # An operator can stop the line; due production waits until it runs again.
    Column("running", Boolean, nullable=False, server_default="true"),
)


def line_running(session: Connection) -> bool:
    return line_runs(session.execute(select(production_line.c.running).where(production_line.c.id == 1)).scalar())


def set_line_running(session: Connection, running: bool) -> None:
    session.execute(insert(production_line).values(id=1, running=running)
                    .on_conflict_do_update(index_elements=["id"], set_={"running": running}))


def record_request(session: Connection, order: ProductionOrder, traceparent: str | None = None) -> None:
    """A redelivered request is recorded once."""
    session.execute(insert(production_orders).values(
        request_id=order.request_id, order_id=order.order_id, sku=order.sku, quantity=order.quantity,
        status=order.status, due_at=order.due_at, requested_by_event=order.requested_by_event,
        traceparent=traceparent,
    ).on_conflict_do_nothing())


def claim_due(session: Connection, now: datetime, limit: int = 50) -> list[tuple[ProductionOrder, str | None]]:
    """Candidates for `ProductionOrder.is_due`, locked so two production loops never finish the same one, each with
    the trace its request came in.

    The WHERE clause repeats the rule so the limit counts due orders only.
    """
    rows = session.execute(select(production_orders)
                           .where(production_orders.c.status == UNSTARTED, production_orders.c.due_at <= now)
                           .order_by(production_orders.c.due_at).limit(limit)
                           .with_for_update(skip_locked=True)).all()
    return [(_production_order(r), r.traceparent) for r in rows]


def lock_production_order(session: Connection, request_id: str) -> ProductionOrder | None:
    """Locked while the domain decides: the production loop skips it, a concurrent change waits."""
    row = session.execute(select(production_orders).where(production_orders.c.request_id == request_id)
                          .with_for_update()).first()
    return None if row is None else _production_order(row)


def save_if_unstarted(session: Connection, order: ProductionOrder) -> bool:
    """Writes a change the domain made; the status guard keeps a finished order from changing again."""
    result = session.execute(update(production_orders)
                             .where(production_orders.c.request_id == order.request_id,
                                    production_orders.c.status == UNSTARTED)
                             .values(status=order.status, expedited=order.expedited, due_at=order.due_at,
                                     produced_at=order.produced_at))
    return result.rowcount == 1


def forget_finished_production(session: Connection, kept_for: timedelta, batch: int = 1000) -> int:
    """Remove up to `batch` production orders requested more than `kept_for` ago and finished, oldest first; returns
    how many went. One still to make stays however old; a late expedite or withdrawal of a removed one does nothing,
    as for a finished one."""
    oldest = (select(production_orders.c.request_id)
              .where(FINISHED, production_orders.c.created_at < func.now() - kept_for)
              .order_by(production_orders.c.created_at).limit(batch)
              .with_for_update(skip_locked=True))  # another replica's round takes others
    return session.execute(delete(production_orders).where(production_orders.c.request_id.in_(oldest))).rowcount


def all_production_orders(session: Connection, limit: int, offset: int):
    return session.execute(select(production_orders)
                           .order_by(production_orders.c.created_at.desc(), production_orders.c.request_id)
                           .limit(limit).offset(offset)).all()


def _production_order(row) -> ProductionOrder:
    return ProductionOrder(request_id=row.request_id, order_id=row.order_id, sku=row.sku, quantity=row.quantity,
                           due_at=row.due_at, status=ProductionStatus(row.status), expedited=row.expedited,
                           produced_at=row.produced_at, requested_by_event=row.requested_by_event)
