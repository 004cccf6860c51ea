"""Stock and reservations in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from contracts.warehouse import ReservationOutcome


class UnknownSku(ValueError):
    """An order line names a SKU the warehouse does not carry."""


class ReservationStatus(StrEnum):
    """A reservation holds its units until the order is cancelled before shipping."""

    RESERVED = "reserved"
    RELEASED = "released"


class BackorderStatus(StrEnum):
    """A backorder waits (OPEN) until every unit arrived, or until its order is cancelled."""

    OPEN = "OPEN"
    ALLOCATED = "ALLOCATED"
    WITHDRAWN = "WITHDRAWN"


class ShipmentStatus(StrEnum):
    """A packed shipment comes back when its delivery failed or its order was cancelled."""

    PACKED = "PACKED"
    RETURNED = "RETURNED"


@dataclass
class StockLevel:
    """`on_hand` is free stock; reserved units are counted apart until they ship."""

    sku: str
    on_hand: int
    reserved: int = 0


@dataclass(frozen=True)
class LineReservation:
    sku: str
    requested: int
    reserved: int

    @property
    def missing(self) -> int:
        return self.requested - self.reserved


def reserve(lines: list[tuple[str, int]], stock: dict[str, StockLevel]) -> list[LineReservation]:
    """Reserve what is free for each line, moving it from on-hand to reserved in `stock`."""
    unknown = sorted({sku for sku, _ in lines if sku not in stock})
    if unknown:
        raise UnknownSku(f"unknown sku: {', '.join(unknown)}")
    result = []
    for sku, requested in lines:
        level = stock[sku]
        taken = min(requested, level.on_hand)
        level.on_hand -= taken
        level.reserved += taken
        result.append(LineReservation(sku, requested, taken))
    return result


def outcome(reservations: list[LineReservation]) -> ReservationOutcome:
    if all(r.missing == 0 for r in reservations):
        return ReservationOutcome.FULL
    if any(r.reserved for r in reservations):
        return ReservationOutcome.PARTIAL
    return ReservationOutcome.NONE


@dataclass(frozen=True)
class OpenBackorder:
    """Units an order still waits for, in the order the shortages arose."""

    id: str
    order_id: str
    missing: int


def allocate_arrival(quantity: int, backorders: list[OpenBackorder]) -> list[tuple[OpenBackorder, int]]:
    """First come, first served: the oldest backorders get the arrived units, never more than arrived."""
    allocations = []
    left = quantity
    for backorder in backorders:
        if left == 0:
            break
        taken = min(left, backorder.missing)
        if taken:
            allocations.append((backorder, taken))
            left -= taken
    return allocations


@dataclass(frozen=True)
class BackorderAllocation:
    backorder_id: str
    order_id: str
    quantity: int
    completes_backorder: bool


@dataclass(frozen=True)
class Arrival:
    """What newly arrived units of one SKU change: free stock, reserved stock and the backorders they fill."""

    quantity: int
    allocations: list[BackorderAllocation]

    @property
    def allocated(self) -> int:
        return sum(a.quantity for a in self.allocations)

    @property
    def on_hand_change(self) -> int:
        """Only what no backorder waited for stays free."""
        return self.quantity - self.allocated

    @property
    def reserved_change(self) -> int:
        """Units allocated to a backorder are reserved for its order at once."""
        return self.allocated

    @property
    def orders_with_completed_backorder(self) -> list[str]:
        return [a.order_id for a in self.allocations if a.completes_backorder]

    def apply_to(self, level: StockLevel) -> None:
        level.on_hand += self.on_hand_change
        level.reserved += self.reserved_change

    def fully_allocated_orders(self, backorder_statuses: Mapping[str, Iterable[BackorderStatus]]) -> list[str]:
        """Orders whose last open backorder this arrival completed: the rest of the order can now ship.

        `backorder_statuses` holds, per order with a completed backorder, the status of each of its
        backorders once this arrival is recorded; an order with another backorder still open keeps waiting.
        """
        return [order_id for order_id in self.orders_with_completed_backorder
                if all(status != BackorderStatus.OPEN for status in backorder_statuses[order_id])]


def receive_arrival(quantity: int, waiting: list[OpenBackorder]) -> Arrival:
    """Arrived units fill the oldest backorders first (see `allocate_arrival`); the rest is free stock."""
    return Arrival(quantity, [BackorderAllocation(backorder.id, backorder.order_id, taken,
                                                  completes_backorder=taken >= backorder.missing)
                              for backorder, taken in allocate_arrival(quantity, waiting)])


@dataclass(frozen=True)
class ReservationState:
    sku: str
    reserved: int
    picked: int
    status: ReservationStatus


def outstanding_reservations(reservations: Iterable[ReservationState]) -> list[tuple[str, int]]:
    """Units held for an order but not picked yet, per SKU: what the next shipment packs or a cancellation frees."""
    return [(r.sku, r.reserved - r.picked) for r in reservations
            if r.status == ReservationStatus.RESERVED and r.reserved > r.picked]


def pick(reserved: list[tuple[str, int]], stock: dict[str, StockLevel]) -> None:
    """Picked units leave the reserved count; they are now in a shipment."""
    for sku, quantity in reserved:
        level = stock[sku]
        if level.reserved < quantity:
            raise ValueError(f"{sku}: cannot pick {quantity}, only {level.reserved} reserved")
        level.reserved -= quantity


def release(lines: list[tuple[str, int]], stock: dict[str, StockLevel], *, from_reserved: bool) -> None:
    """Units go back to free stock: from the reserved count, or from a returned shipment."""
    for sku, quantity in lines:
        level = stock[sku]
        if from_reserved:
            if level.reserved < quantity:
                raise ValueError(f"{sku}: cannot release {quantity}, only {level.reserved} reserved")
            level.reserved -= quantity
        level.on_hand += quantity
