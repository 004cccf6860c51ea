"""Events the Warehouse publishes on `warehouse.events`."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, NonNegativeInt, PositiveInt

from shared.envelope import DomainEvent


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
    lines: list[PackedLine]


class ReplenishmentRequested(DomainEvent):
    """Asks the factory for stock; `order_id` is the order whose shortage caused it."""

    event_type: ClassVar[str] = "fulfilment.warehouse.replenishment-requested.v1"
    request_id: str
    sku: str
    quantity: PositiveInt
