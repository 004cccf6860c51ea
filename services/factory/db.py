"""Factory tables and the queries the service needs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.factory.domain import ProductionStatus

metadata = MetaData()

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
)


production_line = Table(
    "production_line", metadata,
    Column("id", Integer, primary_key=True),
    # An operator can stop the line; due production waits until it runs again.
    Column("running", Boolean, nullable=False, server_default="true"),
)


def line_running(session: Session) -> bool:
    running = session.execute(select(production_line.c.running).where(production_line.c.id == 1)).scalar()
    return running is not False


def set_line_running(session: Session, running: bool) -> None:
    session.execute(insert(production_line).values(id=1, running=running)
                    .on_conflict_do_update(index_elements=["id"], set_={"running": running}))


def record_request(session: Session, *, request_id: str, order_id: str, sku: str, quantity: int,
                   due_at: datetime, requested_by_event: str | None) -> None:
    session.execute(insert(production_orders).values(
        request_id=request_id, order_id=order_id, sku=sku, quantity=quantity, status=ProductionStatus.REQUESTED,
        due_at=due_at, requested_by_event=requested_by_event,
    ).on_conflict_do_nothing())


def claim_due(session: Session, now: datetime, limit: int = 50):
    """Due production orders, locked so two production loops never finish the same one."""
    return session.execute(select(production_orders)
                           .where(production_orders.c.status == ProductionStatus.REQUESTED,
                                  production_orders.c.due_at <= now)
                           .order_by(production_orders.c.due_at).limit(limit)
                           .with_for_update(skip_locked=True)).all()


def mark_produced(session: Session, request_id: str, now: datetime) -> None:
    session.execute(update(production_orders).where(production_orders.c.request_id == request_id)
                    .values(status=ProductionStatus.PRODUCED, produced_at=now))


def all_production_orders(session: Session):
    return session.execute(select(production_orders).order_by(production_orders.c.created_at)).all()


def expedite(session: Session, request_id: str, now: datetime) -> bool:
    """Due at once, if not produced or withdrawn yet."""
    result = session.execute(update(production_orders)
                             .where(production_orders.c.request_id == request_id,
                                    production_orders.c.status == ProductionStatus.REQUESTED)
                             .values(expedited=True, due_at=now))
    return result.rowcount == 1


def withdraw(session: Session, request_id: str) -> bool:
    """Calls off production that has not happened yet; produced goods stay produced."""
    result = session.execute(update(production_orders)
                             .where(production_orders.c.request_id == request_id,
                                    production_orders.c.status == ProductionStatus.REQUESTED)
                             .values(status=ProductionStatus.WITHDRAWN))
    return result.rowcount == 1
