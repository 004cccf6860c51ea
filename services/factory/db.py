"""Factory tables and the queries the service needs."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
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
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def record_request(session: Session, *, request_id: str, order_id: str, sku: str, quantity: int) -> None:
    session.execute(insert(production_orders).values(
        request_id=request_id, order_id=order_id, sku=sku, quantity=quantity, status=ProductionStatus.REQUESTED,
    ).on_conflict_do_nothing())


def all_production_orders(session: Session):
    return session.execute(select(production_orders).order_by(production_orders.c.created_at)).all()
