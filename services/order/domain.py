"""Orders and their lifecycle, in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum


class OrderStatus(StrEnum):
    """The lifecycle an order goes through; docs/order-lifecycle.md describes each one."""

    PLACED = "PLACED"
    AWAITING_STOCK = "AWAITING_STOCK"
    RESERVED = "RESERVED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    PACKED = "PACKED"
    IN_DELIVERY = "IN_DELIVERY"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    DELIVERY_FAILED = "DELIVERY_FAILED"


FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.DELIVERY_FAILED})


class ShipmentStage(StrEnum):
    PACKED = "PACKED"
    IN_DELIVERY = "IN_DELIVERY"
    DELIVERED = "DELIVERED"


_STAGES = list(ShipmentStage)


class InvalidOrder(ValueError):
    """An order request that breaks a business rule the schema cannot express."""


class IdempotencyConflict(ValueError):
    """An Idempotency-Key reused for a different request."""


class UnknownOrder(LookupError):
    """No order has this id."""


class NotCancellable(ValueError):
    """The order is past the point where it can be cancelled."""


def check_cancellable(status: OrderStatus) -> None:
    """Until delivery an order can be cancelled; afterwards the goods are with the customer."""
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        raise NotCancellable("the order has been delivered; return the goods instead of cancelling")
    if status is OrderStatus.DELIVERY_FAILED:
        raise NotCancellable("the order already ended: its delivery failed and the goods were returned")


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Progress:
    """What the other services have reported about an order so far."""

    reserved: bool = False
    backorder_open: bool = False
    shipments: tuple[ShipmentStage, ...] = ()
    final: OrderStatus | None = None


def normalise_lines(lines: list[OrderLine]) -> list[OrderLine]:
    """One line per SKU, quantities summed, in first-seen order."""
    if not lines:
        raise InvalidOrder("an order needs at least one item")
    totals: dict[str, int] = {}
    for line in lines:
        sku = line.sku.strip()
        if not sku:
            raise InvalidOrder("every item needs a sku")
        if line.quantity <= 0:
            raise InvalidOrder(f"quantity of {sku} must be positive, got {line.quantity}")
        totals[sku] = totals.get(sku, 0) + line.quantity
    return [OrderLine(sku, quantity) for sku, quantity in totals.items()]


def status_of(progress: Progress) -> OrderStatus:
    """The status follows from the facts, so events arriving in any order give the same answer."""
    if progress.final is not None:
        return progress.final
    if not progress.shipments:
        if progress.backorder_open:
            return OrderStatus.AWAITING_STOCK
        return OrderStatus.RESERVED if progress.reserved else OrderStatus.PLACED
    if progress.backorder_open:
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus(min(progress.shipments, key=_STAGES.index).value)


def later_stage(current: ShipmentStage | None, reported: ShipmentStage) -> ShipmentStage:
    """A shipment's stage only moves forward, whatever order its events arrive in."""
    if current is None:
        return reported
    return max(current, reported, key=_STAGES.index)


@dataclass(frozen=True)
class Report:
    """What one event or job says about an order: any of the facts its status follows from."""

    reserved: bool | None = None
    backorder_open: bool | None = None
    shipment: tuple[str, ShipmentStage] | None = None
    final: OrderStatus | None = None


def take_in(current: Progress, stages: dict[str, ShipmentStage],
            report: Report) -> tuple[Progress, dict[str, ShipmentStage]]:
    """The progress once `report` is taken in, and each shipment's stage (by shipment id).

    A fact the report names replaces the stored one, a shipment only moves forward, and a final
    status, once reached, stays.
    """
    stages = dict(stages)
    if report.shipment is not None:
        shipment_id, stage = report.shipment
        stages[shipment_id] = later_stage(stages.get(shipment_id), stage)
    progress = Progress(
        reserved=current.reserved if report.reserved is None else report.reserved,
        backorder_open=current.backorder_open if report.backorder_open is None else report.backorder_open,
        shipments=tuple(stages.values()),
        final=current.final or report.final,
    )
    return progress, stages


def request_fingerprint(request: dict) -> str:
    """Stable hash of a request body, to tell a retry from a different request with the same key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_idempotent_retry(stored_fingerprint: str, fingerprint: str) -> None:
    if stored_fingerprint != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different order request")


def waiting_for(backorder_open: bool, stages: list[ShipmentStage]) -> str | None:
    """What a non-final order legitimately waits for under a process deadline; None: it should be moving.

    Stock and couriers take their time and the process escalates them itself (reminders, deadlines,
    a person's decision). Anything else that stands still has stalled.
    """
    if backorder_open:
        return "stock for an open backorder"
    if ShipmentStage.IN_DELIVERY in stages:
        return "a courier to deliver"
    return None
