"""Closed orders: once an order's work has been undone, late work for it does nothing.

A job the engine already cancelled may still be running in a worker; together with
`shared.db.lock_for_order`, this marker makes such late work a no-op instead of an orphan.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


class ClosedOrders:
    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "closed_orders", metadata,
            Column("order_id", String(36), primary_key=True),
            Column("closed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        )

    def close(self, session: Session, order_id: str) -> None:
        session.execute(insert(self.table).values(order_id=order_id).on_conflict_do_nothing())

    def is_closed(self, session: Session, order_id: str) -> bool:
        return session.execute(select(self.table.c.order_id).where(self.table.c.order_id == order_id)).first() \
            is not None
