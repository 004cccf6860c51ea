"""What the Warehouse promises: its events on `warehouse.events`, the message it sends, the jobs it handles."""
from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

from pydantic import PositiveInt

from shared.contracts.base import Event, Line, Message, OrderEvent, OrderJob, ReservedLine, Variables
from shared.contracts.registry import WAREHOUSE

SERVICE = WAREHOUSE


class ReservationOutcome(StrEnum):
    """What a reservation got: everything, part of it, or nothing (the process branches on it)."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


# --- events on warehouse.events ----------------------------------------------------------------------


class StockReserved(OrderEvent, event_type="fulfilment.warehouse.stock-reserved.v1"):
    outcome: str
    lines: list[ReservedLine]


class ShipmentPacked(OrderEvent, event_type="fulfilment.warehouse.shipment-packed.v1"):
    shipment_id: str
    shipment_no: PositiveInt
    lines: list[Line]


class ReplenishmentRequested(OrderEvent, event_type="fulfilment.warehouse.replenishment-requested.v1"):
    """Asks the factory for stock; `order_id` is the order whose shortage caused it."""

    request_id: str
    sku: str
    quantity: PositiveInt


class StockAllocated(OrderEvent, event_type="fulfilment.warehouse.stock-allocated.v1"):
    """Every backordered unit of the order has arrived and is reserved for it."""

    lines: list[Line]


class ReplenishmentExpedited(OrderEvent, event_type="fulfilment.warehouse.replenishment-expedited.v1"):
    """The order has waited too long: the factory should produce this request first."""

    request_id: str


class ReplenishmentWithdrawn(OrderEvent, event_type="fulfilment.warehouse.replenishment-withdrawn.v1"):
    """The order no longer needs the units; production that has not started is called off."""

    request_id: str


class ShipmentReturned(OrderEvent, event_type="fulfilment.warehouse.shipment-returned.v1"):
    """A packed shipment went back to stock: its delivery failed or the order was cancelled."""

    shipment_id: str
    lines: list[Line]


class StockReleased(OrderEvent, event_type="fulfilment.warehouse.stock-released.v1"):
    """Units reserved for the order went back to free stock (cancellation or failed delivery)."""

    lines: list[Line]


class SkuListed(Event, event_type="fulfilment.warehouse.sku-listed.v1"):
    """The SKU is in the Warehouse's catalog, so orders may name it. About a SKU, not an order.

    Sent when a SKU is added, and once for every SKU the catalog had before this event existed.
    """

    subject_is: ClassVar[str] = "the SKU"

    sku: str
    name: str

    @property
    def subject(self) -> str:
        return self.sku


# --- Zeebe messages ---------------------------------------------------------------------------------

# Wakes the order's process from its stock wait. Kept a week: the process may reach its wait
# after the stock arrived. The broker drops it after its TTL, so the process never relies on it
# alone: see CheckAllocation.
STOCK_ALLOCATED = Message("stock-allocated", correlation="orderId", ttl=timedelta(days=7))

# --- jobs it handles -----------------------------------------------------------------------------------


class ReserveStockResult(Variables):
    reservation_outcome: ReservationOutcome


class ReserveStock(OrderJob, job_type="warehouse.reserve-stock", output=ReserveStockResult):
    """Reserve what is free; backorder the rest."""

    items: list[Line]


class PickPackResult(Variables):
    # None when nothing was left to pack: the shipment process then ends at once.
    shipment_id: str | None
    shipment_items: list[Line]


class PickPack(OrderJob, job_type="warehouse.pick-pack", output=PickPackResult):
    """Pack every reserved, not yet picked unit into shipment `shipment_no` (1 now, 2 after the backorder)."""

    shipment_no: PositiveInt


class CheckAllocationResult(Variables):
    # What stock-allocated announces (the message itself carries no variables): every backorder of
    # the order is allocated, so the rest of it can ship.
    stock_allocated: bool


class CheckAllocation(OrderJob, job_type="warehouse.check-allocation", output=CheckAllocationResult):
    """Before the process (re-)enters its wait for stock-allocated: is the order's stock all allocated already?

    The message lives only for its TTL; the Warehouse's backorders never expire, so stock allocated
    while nobody waited (a person deciding on late stock), or whose message expired unpublished
    (an engine outage), is still seen.
    """


class ExpediteBackorder(OrderJob, job_type="warehouse.expedite-backorder"):
    """The order has waited too long for stock: the factory is asked to produce its backorders first."""

class ReturnShipment(OrderJob, job_type="warehouse.return-shipment"):
    """Compensation of pick-pack: the packed goods go back to stock."""

    shipment_id: str


class ReleaseStock(OrderJob, job_type="warehouse.release-stock"):
    """Compensation of the reservation: everything not delivered goes back to free stock."""

    delivered_shipment_ids: list[str] = []
