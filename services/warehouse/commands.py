"""Warehouse use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from services.warehouse import db
from services.warehouse.domain import (InsufficientStock, LineReservation, ReservationOutcome, describe_shortage,
                                       outcome, pick, reserve)
from services.warehouse.events import PackedLine, ReservedLine, ShipmentPacked, StockReserved
from shared.outbox import EventPublisher
from shared.topics import events_topic

publisher = EventPublisher(source="/fulfilment/warehouse", topic=events_topic("warehouse"))


def reserve_stock(session: Session, order_id: str, lines: list[tuple[str, int]]) -> list[LineReservation]:
    """Reserve every line in full, or nothing; a repeated call returns the first result."""
    existing = db.reservations_of(session, order_id)
    if existing:
        return [LineReservation(r.sku, r.requested, r.reserved) for r in existing]
    levels = db.lock_stock(session, [sku for sku, _ in lines])
    reservations = reserve(lines, levels)
    if outcome(reservations) is not ReservationOutcome.FULL:
        # Partial fulfilment and backorders arrive with the full process; until then, no change at all.
        raise InsufficientStock(f"not enough stock for order {order_id}: {describe_shortage(reservations)}")
    db.save_stock(session, levels)
    db.insert_reservations(session, order_id, reservations)
    publisher.publish(session, StockReserved(
        order_id=order_id, outcome=outcome(reservations),
        lines=[ReservedLine(sku=r.sku, requested=r.requested, reserved=r.reserved) for r in reservations],
    ))
    return reservations


def pick_and_pack(session: Session, order_id: str) -> tuple[str, list[tuple[str, int]]]:
    """Move the order's reserved units into one shipment; a repeated call returns the same shipment."""
    shipment = db.shipment_of(session, order_id)
    if shipment is not None:
        return shipment.id, [(l.sku, l.quantity) for l in db.shipment_lines_of(session, shipment.id)]
    reserved = [(r.sku, r.reserved) for r in db.reservations_of(session, order_id)
                if r.status == "reserved" and r.reserved > 0]
    if not reserved:
        raise ValueError(f"order {order_id} has no reserved stock to pack")
    levels = db.lock_stock(session, [sku for sku, _ in reserved])
    pick(reserved, levels)
    db.save_stock(session, levels)
    db.mark_picked(session, order_id)
    shipment_id = str(uuid.uuid4())
    db.insert_shipment(session, shipment_id, order_id, reserved)
    publisher.publish(session, ShipmentPacked(
        order_id=order_id, shipment_id=shipment_id,
        lines=[PackedLine(sku=sku, quantity=q) for sku, q in reserved],
    ))
    return shipment_id, reserved
