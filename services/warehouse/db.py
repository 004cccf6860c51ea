"""Warehouse tables and the queries the service needs."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, func, insert, select, update
from sqlalchemy.orm import Session

from services.warehouse.domain import StockLevel

metadata = MetaData()

stock = Table(
    "stock", metadata,
    Column("sku", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

reservations = Table(
    "reservations", metadata,
    Column("order_id", String(36), primary_key=True),
    Column("sku", String(100), ForeignKey("stock.sku"), primary_key=True),
    Column("requested", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    # reserved -> picked once the units are in a shipment
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

shipments = Table(
    "shipments", metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

shipment_lines = Table(
    "shipment_lines", metadata,
    Column("shipment_id", String(36), ForeignKey("shipments.id"), primary_key=True),
    Column("sku", String(100), primary_key=True),
    Column("quantity", Integer, nullable=False),
)


def lock_stock(session: Session, skus: list[str]) -> dict[str, StockLevel]:
    """Row locks in SKU order, so concurrent reservations cannot deadlock or oversell."""
    rows = session.execute(select(stock).where(stock.c.sku.in_(sorted(set(skus))))
                           .order_by(stock.c.sku).with_for_update()).all()
    return {r.sku: StockLevel(r.sku, r.on_hand, r.reserved) for r in rows}


def save_stock(session: Session, levels: dict[str, StockLevel]) -> None:
    for level in levels.values():
        session.execute(update(stock).where(stock.c.sku == level.sku)
                        .values(on_hand=level.on_hand, reserved=level.reserved, updated_at=func.now()))


def all_stock(session: Session):
    return session.execute(select(stock).order_by(stock.c.sku)).all()


def set_on_hand(session: Session, sku: str, on_hand: int) -> bool:
    result = session.execute(update(stock).where(stock.c.sku == sku)
                             .values(on_hand=on_hand, updated_at=func.now()))
    return result.rowcount == 1


def reservations_of(session: Session, order_id: str):
    return session.execute(select(reservations).where(reservations.c.order_id == order_id)
                           .order_by(reservations.c.sku)).all()


def insert_reservations(session: Session, order_id: str, lines) -> None:
    session.execute(insert(reservations), [
        {"order_id": order_id, "sku": l.sku, "requested": l.requested, "reserved": l.reserved, "status": "reserved"}
        for l in lines
    ])


def mark_picked(session: Session, order_id: str) -> None:
    session.execute(update(reservations).where(reservations.c.order_id == order_id).values(status="picked"))


def shipment_of(session: Session, order_id: str):
    return session.execute(select(shipments).where(shipments.c.order_id == order_id)).first()


def shipment_lines_of(session: Session, shipment_id: str):
    return session.execute(select(shipment_lines).where(shipment_lines.c.shipment_id == shipment_id)
                           .order_by(shipment_lines.c.sku)).all()


def insert_shipment(session: Session, shipment_id: str, order_id: str, lines: list[tuple[str, int]]) -> None:
    session.execute(insert(shipments).values(id=shipment_id, order_id=order_id, status="packed"))
    session.execute(insert(shipment_lines),
                    [{"shipment_id": shipment_id, "sku": sku, "quantity": q} for sku, q in lines])
