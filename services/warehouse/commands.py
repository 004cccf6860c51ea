"""Warehouse use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.warehouse import db
from services.warehouse.domain import (
    BackorderStatus,
    IdempotencyConflict,
    LineReservation,
    OpenBackorder,
    Refused,
    Reservation,
    ReservationState,
    ReservationStatus,
    ShipmentStatus,
    StockLevel,
    UnknownOrder,
    UnknownSku,
    all_allocated,
    counted_change,
    outcome,
    outstanding_reservations,
    pick,
    receive_arrival,
    release,
    reserve,
    take_out,
)
from shared.contracts.base import Line, ReservedLine
from shared.contracts.warehouse import (
    STOCK_ALLOCATED,
    ReplenishmentExpedited,
    ReplenishmentRequested,
    ReplenishmentWithdrawn,
    ReservationOutcome,
    ShipmentPacked,
    ShipmentReturned,
    SkuListed,
    StockAllocated,
    StockReleased,
    StockReserved,
)
from shared.runtime.db import serialise_on
from shared.runtime.outbox import UnitOfWork

# The failures of these use cases no retry can fix, where a job or an event meets one (an incident, a dead letter):
# input the warehouse's rules refuse.
REFUSALS = {Refused: "{}"}


def reserve_stock(uow: UnitOfWork, order_id: str, lines: list[tuple[str, int]]) -> Reservation:
    """Reserve what is free now; backorder the rest and ask the factory for it. Repeatable."""
    serialise_on(uow.session, order_id)
    if db.closed_orders.is_closed(uow.session, order_id):
        return Reservation(ReservationOutcome.NONE, [])
    existing = db.reservations_of(uow.session, order_id)
    if existing:
        missing = {b.sku: b.quantity for b in db.backorders_of(uow.session, order_id)}
        first = [LineReservation(r.sku, r.requested, r.requested - missing.get(r.sku, 0)) for r in existing]
        return Reservation(outcome(first), first)
    levels = db.lock_stock(uow.session, [sku for sku, _ in lines])
    reservations = reserve(lines, levels)
    db.save_stock(uow.session, levels)
    db.insert_reservations(uow.session, order_id, reservations)
    result = outcome(reservations)
    uow.publish(StockReserved(
        order_id=order_id, outcome=result,
        lines=[ReservedLine(sku=r.sku, requested=r.requested, reserved=r.reserved) for r in reservations],
    ))
    shortages = [(str(uuid.uuid4()), r.sku, r.missing) for r in reservations if r.missing]
    if shortages:
        db.insert_backorders(uow.session, order_id, shortages)
        for backorder_id, sku, quantity in shortages:
            # The backorder id doubles as the request id: one production request per backordered line.
            uow.publish(ReplenishmentRequested(order_id=order_id, request_id=backorder_id,
                                               sku=sku, quantity=quantity))
    return Reservation(result, reservations)


def pick_and_pack(uow: UnitOfWork, order_id: str, shipment_no: int) -> tuple[str | None, list[tuple[str, int]]]:
    """Pack every reserved, not yet picked unit into shipment `shipment_no`; (None, []) if there is none."""
    _lock_order(uow, order_id)
    if db.closed_orders.is_closed(uow.session, order_id):
        return None, []
    shipment = db.shipment_of(uow.session, order_id, shipment_no)
    if shipment is not None:
        return shipment.id, [(l.sku, l.quantity) for l in db.shipment_lines_of(uow.session, shipment.id)]
    to_pick = _outstanding(uow, order_id)
    if not to_pick:
        return None, []
    levels = db.lock_stock(uow.session, [sku for sku, _ in to_pick])
    pick(to_pick, levels)
    db.save_stock(uow.session, levels)
    db.add_picked(uow.session, order_id, to_pick)
    shipment_id = str(uuid.uuid4())
    db.insert_shipment(uow.session, shipment_id, order_id, shipment_no, to_pick)
    uow.publish(ShipmentPacked(
        order_id=order_id, shipment_id=shipment_id, shipment_no=shipment_no,
        lines=[Line(sku=sku, quantity=q) for sku, q in to_pick],
    ))
    return shipment_id, to_pick


def receive_produced_items(uow: UnitOfWork, sku: str, quantity: int, causation_id: str | None = None) -> list[str]:
    """New stock arrives; it goes to waiting backorders first. Returns the orders now fully allocated."""
    level = _lock_sku(uow, sku)
    completed_orders = _receive(uow, level, quantity, causation_id)
    db.save_stock(uow.session, {sku: level})
    return completed_orders


@dataclass(frozen=True)
class StockAdjustment:
    id: int
    sku: str
    quantity: int
    reason: str
    to_backorders: int
    actor: str | None  # None for the changes made before actors were kept
    # True when an earlier request with the same Idempotency-Key made it.
    repeated: bool = False

    @classmethod
    def of(cls, row, *, repeated: bool = False) -> StockAdjustment:
        # Added units that did not become free went to backorders.
        to_backorders = max(row.quantity, 0) - max(row.on_hand_after - row.on_hand_before, 0)
        return cls(row.id, row.sku, row.quantity, row.reason, to_backorders, row.actor, repeated)


def adjust_stock(uow: UnitOfWork, sku: str, quantity: int, reason: str, idempotency_key: str | None = None, *,
                 actor: str) -> StockAdjustment:
    """An operator (`actor`, their token's subject, kept with the adjustment) adds (+) or removes (-) units relative
    to what is there now, so no concurrent change is lost.

    A retry with the same Idempotency-Key gets the first adjustment back instead of a second one.
    """
    level = _lock_sku(uow, sku)  # first: a concurrent retry for this SKU then finds the key below
    if idempotency_key is not None:
        earlier = db.adjustment_with_key(uow.session, idempotency_key)
        if earlier is not None:
            if (earlier.sku, earlier.quantity, earlier.reason) != (sku, quantity, reason):
                raise IdempotencyConflict(f"Idempotency-Key {idempotency_key} was used for another adjustment "
                                          f"({earlier.quantity:+} {earlier.sku}, {earlier.reason!r})")
            return StockAdjustment.of(earlier, repeated=True)
    return _adjust(uow, level, quantity, reason, actor, idempotency_key)


def count_stock(uow: UnitOfWork, sku: str, on_hand: int, counted_at: frozenset[int] | None, *,
                actor: str) -> StockAdjustment:
    """An operator's count of free stock, accepted only if nothing changed since the version it was made against."""
    level = _lock_sku(uow, sku)
    return _adjust(uow, level, counted_change(level, on_hand, counted_at), "count", actor)


def add_sku(uow: UnitOfWork, sku: str, name: str, on_hand: int, *, actor: str) -> bool:
    """A new SKU with its first count, announced so the Order service takes orders for it; False if the SKU
    exists (then counting it needs its version)."""
    if not db.insert_sku(uow.session, sku, name):
        return False
    _adjust(uow, _lock_sku(uow, sku), on_hand, "new sku", actor)
    uow.publish(SkuListed(sku=sku, name=name))
    return True


def _adjust(uow: UnitOfWork, level: StockLevel, quantity: int, reason: str, actor: str,
            idempotency_key: str | None = None) -> StockAdjustment:
    """Added units are offered to waiting backorders first, exactly like a factory arrival."""
    before = level.on_hand
    if quantity > 0:
        _receive(uow, level, quantity, causation_id=None)
    else:
        take_out(level, -quantity)
    db.save_stock(uow.session, {level.sku: level})
    return StockAdjustment.of(db.record_adjustment(uow.session, level.sku, quantity, reason, before, level.on_hand,
                                                   actor, idempotency_key))


def _receive(uow: UnitOfWork, level: StockLevel, quantity: int, causation_id: str | None) -> list[str]:
    """Units of one SKU enter the warehouse: waiting backorders first, the rest free; `level` is locked and changed.

    Returns the orders whose backorders are now all allocated (each has been sent `stock-allocated`).

    Every backorder of the orders that get units is locked before any is changed: two arrivals of
    different SKUs for one order then take turns, and the second sees the first one's backorder
    allocated, so exactly one of them tells the order its stock is complete.
    """
    waiting = [OpenBackorder(b.id, b.order_id, b.quantity - b.allocated)
               for b in db.open_backorders_for(uow.session, level.sku)]
    arrival = receive_arrival(quantity, waiting)
    arrival.apply_to(level)
    db.lock_backorders_of(uow.session, arrival.orders)
    for allocation in arrival.allocations:
        db.add_to_reservation(uow.session, allocation.order_id, level.sku, allocation.quantity)
        db.allocate_to_backorder(uow.session, allocation.backorder_id, allocation.quantity)
        if allocation.completes_backorder:
            db.set_backorder_status(uow.session, allocation.backorder_id, BackorderStatus.ALLOCATED)
    completed_orders = arrival.fully_allocated_orders({
        order_id: [BackorderStatus(b.status) for b in db.backorders_of(uow.session, order_id)]
        for order_id in arrival.orders_with_completed_backorder
    })
    for order_id in completed_orders:
        allocated = [Line(sku=b.sku, quantity=b.quantity) for b in db.backorders_of(uow.session, order_id)]
        uow.publish(StockAllocated(order_id=order_id, lines=allocated), causation_id=causation_id)
        uow.send(STOCK_ALLOCATED.to(order_id))
    return completed_orders


def stock_allocated(uow: UnitOfWork, order_id: str) -> bool:
    """Whether every backorder of the order is allocated: what `stock-allocated` announced, however long ago.

    Reads only; an arrival committing meanwhile is either seen here or sends its message after, which
    the process's wait then receives. False once the order's stock was released (late work for a
    closed order); raises UnknownOrder if its stock was never reserved.
    """
    if db.closed_orders.is_closed(uow.session, order_id):
        return False
    if not db.reservations_of(uow.session, order_id):
        raise UnknownOrder(f"no stock was reserved for order {order_id}")
    return all_allocated(BackorderStatus(b.status) for b in db.backorders_of(uow.session, order_id))


def expedite_backorder(uow: UnitOfWork, order_id: str) -> int:
    """Flag the order's open backorders and ask the factory to hurry; repeating it does nothing new."""
    db.lock_backorders_of(uow.session, [order_id])
    flagged = db.flag_expedited(uow.session, order_id)
    for row in flagged:
        uow.publish(ReplenishmentExpedited(order_id=order_id, request_id=row.id))
    return len(flagged)


def return_shipment(uow: UnitOfWork, order_id: str, shipment_id: str) -> bool:
    """Put a packed shipment's goods back into free stock; False if it was not packed (any more)."""
    _lock_order(uow, order_id)
    return _return_shipment(uow, order_id, shipment_id)


def _return_shipment(uow: UnitOfWork, order_id: str, shipment_id: str) -> bool:
    shipment = next((s for s in db.shipments_of_order(uow.session, order_id) if s.id == shipment_id), None)
    if shipment is None or shipment.status != ShipmentStatus.PACKED:
        return False
    lines = [(l.sku, l.quantity) for l in db.shipment_lines_of(uow.session, shipment_id)]
    levels = db.lock_stock(uow.session, [sku for sku, _ in lines])
    release(lines, levels, from_reserved=False)
    db.save_stock(uow.session, levels)
    db.set_shipment_status(uow.session, shipment_id, ShipmentStatus.RETURNED)
    uow.publish(ShipmentReturned(order_id=order_id, shipment_id=shipment_id,
                                 lines=[Line(sku=s, quantity=q) for s, q in lines]))
    return True


def release_stock(uow: UnitOfWork, order_id: str, delivered_shipment_ids: list[str]) -> None:
    """Undo the warehouse's part of an order that will not complete; every step is repeatable.

    Packed shipments that were not delivered come back, reserved units are freed, and backorders
    are withdrawn so the factory can call off production it has not started.
    """
    _lock_order(uow, order_id)
    db.lock_backorders_of(uow.session, [order_id])
    db.closed_orders.close(uow.session, order_id)
    for shipment in db.shipments_of_order(uow.session, order_id):
        if shipment.id not in delivered_shipment_ids:
            _return_shipment(uow, order_id, shipment.id)
    outstanding = _outstanding(uow, order_id)
    if outstanding:
        levels = db.lock_stock(uow.session, [sku for sku, _ in outstanding])
        release(outstanding, levels, from_reserved=True)
        db.save_stock(uow.session, levels)
        uow.publish(StockReleased(order_id=order_id,
                                  lines=[Line(sku=s, quantity=q) for s, q in outstanding]))
    db.release_reservations(uow.session, order_id)
    for backorder in db.backorders_of(uow.session, order_id):
        if backorder.status == BackorderStatus.OPEN:
            db.set_backorder_status(uow.session, backorder.id, BackorderStatus.WITHDRAWN)
            uow.publish(ReplenishmentWithdrawn(order_id=order_id, request_id=backorder.id))


def _lock_order(uow: UnitOfWork, order_id: str) -> None:
    """The first locks of a use case about one existing order, in the warehouse's lock order
    (docs/architecture.md): the order, then the stock rows of every SKU it holds, before any of its rows.

    The SKUs an order holds are fixed when it is reserved, which happens under the order's lock.
    """
    serialise_on(uow.session, order_id)
    db.lock_stock(uow.session, [r.sku for r in db.reservations_of(uow.session, order_id)])


def _lock_sku(uow: UnitOfWork, sku: str) -> StockLevel:
    """The first lock of a use case about one SKU (an arrival, an operator's change)."""
    level = db.lock_stock(uow.session, [sku]).get(sku)
    if level is None:
        raise UnknownSku(f"unknown sku: {sku}")
    return level


def _outstanding(uow: UnitOfWork, order_id: str) -> list[tuple[str, int]]:
    """Locks the order's reservations (after their stock rows): picking and releasing them must not overlap."""
    return outstanding_reservations(
        ReservationState(r.sku, r.reserved, r.picked, ReservationStatus(r.status))
        for r in db.reservations_of(uow.session, order_id, for_update=True))
