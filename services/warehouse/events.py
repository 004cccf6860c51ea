"""Events the Warehouse publishes on `warehouse.events`, and the message that wakes a waiting order."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, NonNegativeInt, PositiveInt

from shared.envelope import DomainEvent

# Wakes the order's process from its stock wait; correlated by order id.
STOCK_ALLOCATED_MESSAGE = "stock-allocated"


class ReservedLine(BaseModel):
    sku: str
    requested: PositiveInt
    reserved: NonNegativeInt


class PackedLine(BaseModel):
    sku: str
    quantity: PositiveInt


class StockReserved(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.warehouse.stock-reserved.v1"
    outcome: str
    lines: list[ReservedLine]


class ShipmentPacked(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.warehouse.shipment-packed.v1"
    shipment_id: str
    shipment_no: PositiveInt
    lines: list[PackedLine]


class ReplenishmentRequested(DomainEvent):
    """Asks the factory for stock; `order_id` is the order whose shortage caused it."""

    event_type: ClassVar[str] = "fulfilment.warehouse.replenishment-requested.v1"
    request_id: str
    sku: str
    quantity: PositiveInt


class StockAllocated(DomainEvent):
    """Every backordered unit of the order has arrived and is reserved for it."""

    event_type: ClassVar[str] = "fulfilment.warehouse.stock-allocated.v1"
    lines: list[PackedLine]


class ReplenishmentExpedited(DomainEvent):
    """The order has waited too long: the factory should produce this request first."""

    event_type: ClassVar[str] = "fulfilment.warehouse.replenishment-expedited.v1"
    request_id: str


class ReplenishmentWithdrawn(DomainEvent):
    """The order no longer needs the units; production that has not started is called off."""

    event_type: ClassVar[str] = "fulfilment.warehouse.replenishment-withdrawn.v1"
    request_id: str


class ShipmentReturned(DomainEvent):
    """A packed shipment went back to stock: its delivery failed or the order was cancelled."""

    event_type: ClassVar[str] = "fulfilment.warehouse.shipment-returned.v1"
    shipment_id: str
    lines: list[PackedLine]


class StockReleased(DomainEvent):
    """Units reserved for the order went back to free stock (cancellation or failed delivery)."""

    event_type: ClassVar[str] = "fulfilment.warehouse.stock-released.v1"
    lines: list[PackedLine]
