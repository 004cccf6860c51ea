"""Delivery tables and the queries the service needs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, UniqueConstraint, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from runtime.closing import ClosedKeys
from services.delivery.domain import DeliveryStatus

metadata = MetaData()

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("shipment_id", String(36), nullable=False),
    Column("items", JSONB, nullable=False),
    Column("courier", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    # The delivery command is idempotent per order and shipment.
    UniqueConstraint("order_id", "shipment_id", name="deliveries_one_per_shipment"),
)


def find(session: Session, order_id: str, shipment_id: str):
    return session.execute(select(deliveries).where(deliveries.c.order_id == order_id,
                                                    deliveries.c.shipment_id == shipment_id)).first()


def get(session: Session, delivery_id: str):
    return session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()


def of_order(session: Session, order_id: str):
    return session.execute(select(deliveries).where(deliveries.c.order_id == order_id)
                           .order_by(deliveries.c.dispatched_at)).all()


def insert_delivery(session: Session, **values) -> None:
    session.execute(insert(deliveries).values(status=DeliveryStatus.DISPATCHED, **values))


def claim_due(session: Session, now: datetime, limit: int = 50):
    """Due deliveries, locked so two courier loops never finish the same one."""
    return session.execute(select(deliveries)
                           .where(deliveries.c.status == DeliveryStatus.DISPATCHED, deliveries.c.due_at <= now)
                           .order_by(deliveries.c.due_at).limit(limit)
                           .with_for_update(skip_locked=True)).all()


def mark_delivered(session: Session, delivery_id: str, now: datetime) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id)
                    .values(status=DeliveryStatus.DELIVERED, delivered_at=now))


def of_order_for_update(session: Session, order_id: str):
    return session.execute(select(deliveries).where(deliveries.c.order_id == order_id)
                           .order_by(deliveries.c.dispatched_at).with_for_update()).all()


def find_by_shipment(session: Session, shipment_id: str):
    return session.execute(select(deliveries).where(deliveries.c.shipment_id == shipment_id)
                           .with_for_update()).first()


def set_status(session: Session, delivery_id: str, status: DeliveryStatus) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(status=status))


def reassign(session: Session, delivery_id: str, courier: str, due_at: datetime) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(courier=courier, due_at=due_at))



# Marks orders whose work was undone (see runtime.closing).
closed_orders = ClosedKeys(metadata, "closed_orders", "order_id")
