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
)


def record_request(session: Session, *, request_id: str, order_id: str, sku: str, quantity: int,
                   due_at: datetime) -> None:
    session.execute(insert(production_orders).values(
        request_id=request_id, order_id=order_id, sku=sku, quantity=quantity, status=ProductionStatus.REQUESTED,
        due_at=due_at,
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
