"""Stock and reservations in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from dataclasses import dataclass

from contracts.warehouse import ReservationOutcome


class UnknownSku(ValueError):
    """An order line names a SKU the warehouse does not carry."""


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


def describe_shortage(reservations: list[LineReservation]) -> str:
    return "; ".join(f"{r.sku}: {r.requested} requested, {r.reserved} available"
                     for r in reservations if r.missing)


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
