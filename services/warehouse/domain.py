"""Stock and reservations in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.contracts.warehouse import ReservationOutcome

# More units than one SKU's stock ever holds: such a number is a typing or producer mistake, and it
# would not fit the database's integer.
MAX_UNITS_PER_SKU = 1_000_000_000


class Refused(ValueError):
    """Input the warehouse's rules refuse: the same input can never succeed, so it is not retried."""


class UnknownSku(Refused):
    """An order line, an arrival or an operator names a SKU the warehouse does not carry."""


class UnknownOrder(Refused):
    """The process asks about an order the warehouse never reserved stock for."""


class InvalidLines(Refused):
    """Order lines that cannot be reserved as they are: a SKU twice, or an impossible quantity."""


class NotEnoughFreeStock(Refused):
    """Only free units can leave the warehouse: reserved ones belong to orders."""


class StockLimitExceeded(Refused):
    """A change would put more than MAX_UNITS_PER_SKU units of one SKU in stock."""


class IdempotencyConflict(Refused):
    """An Idempotency-Key reused for a different stock adjustment."""


class StaleCount(Refused):
    """An operator's count was made against a version of the stock that has changed since."""


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
    """`on_hand` is free stock; reserved units are counted apart until they ship.

    `version` goes up with every change of either number; an operator's count names the version it
    was made against.
    """

    sku: str
    on_hand: int
    reserved: int = 0
    version: int = 0


@dataclass(frozen=True)
class LineReservation:
    sku: str
    requested: int
    reserved: int

    @property
    def missing(self) -> int:
        return self.requested - self.reserved


@dataclass(frozen=True)
class Reservation:
    """What an order got reserved, line by line, and what that makes of it."""

    outcome: ReservationOutcome
    lines: list[LineReservation]


def reserve(lines: list[tuple[str, int]], stock: dict[str, StockLevel]) -> list[LineReservation]:
    """Reserve what is free for each line, moving it from on-hand to reserved in `stock`."""
    unknown = sorted({sku for sku, _ in lines if sku not in stock})
    if unknown:
        raise UnknownSku(f"unknown sku: {', '.join(unknown)}")
    skus = [sku for sku, _ in lines]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise InvalidLines(f"each sku may appear on one line only: {', '.join(repeated)} appears more than once")
    too_many = sorted(sku for sku, requested in lines if requested > MAX_UNITS_PER_SKU)
    if too_many:
        raise InvalidLines(f"more than {MAX_UNITS_PER_SKU:,} units requested of {', '.join(too_many)}")
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


def all_allocated(backorder_statuses: Iterable[BackorderStatus]) -> bool:
    """Whether the order waits for no more units: none of its backorders is still open.

    The one rule behind both `stock-allocated` (sent when an arrival makes it true) and the
    process's own check before it waits; an order with no backorder waits for nothing.
    """
    return all(status != BackorderStatus.OPEN for status in backorder_statuses)


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
    def orders(self) -> list[str]:
        """Every order this arrival gives units to."""
        return list(dict.fromkeys(a.order_id for a in self.allocations))

    @property
    def orders_with_completed_backorder(self) -> list[str]:
        return [a.order_id for a in self.allocations if a.completes_backorder]

    def apply_to(self, level: StockLevel) -> None:
        if level.on_hand + level.reserved + self.quantity > MAX_UNITS_PER_SKU:
            raise StockLimitExceeded(f"{level.sku}: {self.quantity:,} more units would put more than "
                                     f"{MAX_UNITS_PER_SKU:,} in stock")
        level.on_hand += self.on_hand_change
        level.reserved += self.reserved_change

    def fully_allocated_orders(self, backorder_statuses: Mapping[str, Iterable[BackorderStatus]]) -> list[str]:
        """Orders whose last open backorder this arrival completed: the rest of the order can now ship.

        `backorder_statuses` holds, per order with a completed backorder, the status of each of its
        backorders once this arrival is recorded; an order with another backorder still open keeps waiting.
        """
        return [order_id for order_id in self.orders_with_completed_backorder
                if all_allocated(backorder_statuses[order_id])]


def receive_arrival(quantity: int, waiting: list[OpenBackorder]) -> Arrival:
    """Arrived units fill the oldest backorders first (see `allocate_arrival`); the rest is free stock."""
    return Arrival(quantity, [BackorderAllocation(backorder.id, backorder.order_id, taken,
                                                  completes_backorder=taken >= backorder.missing)
                              for backorder, taken in allocate_arrival(quantity, waiting)])


def take_out(level: StockLevel, units: int) -> None:
    """Units leave free stock (lost, damaged, miscounted); reserved units stay with their orders."""
    if units > level.on_hand:
        raise NotEnoughFreeStock(f"{level.sku}: cannot remove {units} units: only {level.on_hand} are free, "
                                 f"{level.reserved} are reserved for orders")
    level.on_hand -= units


def counted_change(level: StockLevel, counted_on_hand: int, counted_at: frozenset[int] | None) -> int:
    """How much an operator's count of free stock changes it; units it adds are an arrival like any other.

    `counted_at` holds the versions the count may have been made against (None: whichever is current).
    A count made against an older version is refused: a reservation or an arrival since would
    otherwise be counted twice or lost.
    """
    if counted_at is not None and level.version not in counted_at:
        raise StaleCount(f"{level.sku} changed since it was counted (now version {level.version}, "
                         f"{level.on_hand} free, {level.reserved} reserved): read it again and recount, "
                         f"or adjust it by the units found or missing")
    return counted_on_hand - level.on_hand


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
