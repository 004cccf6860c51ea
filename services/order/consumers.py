"""Order read model: the status and timeline follow the other services' events, the catalog the Warehouse's."""
from __future__ import annotations

from services.order import commands
from services.order.domain import OrderStatus, Report, Shipment, ShipmentStage
from shared.contracts.base import OrderEvent
from shared.contracts.delivery import DeliveryCompleted, DeliveryStarted
from shared.contracts.warehouse import ReservationOutcome, ShipmentPacked, SkuListed, StockAllocated, StockReserved
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventRejected, Subscription, refusing
from shared.runtime.outbox import UnitOfWork


def _record(uow: UnitOfWork, event: OrderEvent, envelope: Envelope, what: str, report: Report,
            reported: OrderStatus) -> None:
    commands.record_progress(uow, event.order_id, what, report, reported=reported, caused_by=envelope)


def on_stock_reserved(uow: UnitOfWork, event: StockReserved, envelope: Envelope) -> None:
    try:
        outcome = ReservationOutcome(event.outcome)
    except ValueError:
        raise EventRejected(f"unknown reservation outcome {event.outcome[:60]!r}") from None
    if outcome is ReservationOutcome.FULL:
        _record(uow, event, envelope, "stock reserved", Report(reserved=True, backorder_open=False),
                OrderStatus.RESERVED)
    else:
        missing = ", ".join(f"{l.requested - l.reserved}x {l.sku}" for l in event.lines if l.reserved < l.requested)
        got = "part of the stock reserved" if outcome is ReservationOutcome.PARTIAL else "nothing in stock"
        _record(uow, event, envelope, f"{got}; backordered {missing}",
                Report(reserved=outcome is ReservationOutcome.PARTIAL, backorder_open=True),
                OrderStatus.AWAITING_STOCK)


def on_stock_allocated(uow: UnitOfWork, event: StockAllocated, envelope: Envelope) -> None:
    _record(uow, event, envelope, "backordered stock arrived and is reserved",
            Report(reserved=True, backorder_open=False), OrderStatus.RESERVED)


def on_shipment_packed(uow: UnitOfWork, event: ShipmentPacked, envelope: Envelope) -> None:
    packed = Shipment(ShipmentStage.PACKED, units=sum(line.quantity for line in event.lines))
    _record(uow, event, envelope, f"shipment {event.shipment_no} ({event.shipment_id}) packed",
            Report(shipment=(event.shipment_id, packed)), OrderStatus.PACKED)


def on_delivery_started(uow: UnitOfWork, event: DeliveryStarted, envelope: Envelope) -> None:
    _record(uow, event, envelope, f"delivery {event.delivery_id} handed to {event.courier}",
            Report(shipment=(event.shipment_id, Shipment(ShipmentStage.IN_DELIVERY))), OrderStatus.IN_DELIVERY)


def on_delivery_completed(uow: UnitOfWork, event: DeliveryCompleted, envelope: Envelope) -> None:
    _record(uow, event, envelope, f"delivery {event.delivery_id} delivered",
            Report(shipment=(event.shipment_id, Shipment(ShipmentStage.DELIVERED))), OrderStatus.DELIVERED)


def on_sku_listed(uow: UnitOfWork, event: SkuListed, envelope: Envelope) -> None:
    commands.list_sku(uow, event.sku, event.name)


SUBSCRIPTIONS = refusing(commands.REFUSALS, [
    Subscription(StockReserved, on_stock_reserved),
    Subscription(StockAllocated, on_stock_allocated),
    Subscription(ShipmentPacked, on_shipment_packed),
    Subscription(DeliveryStarted, on_delivery_started),
    Subscription(DeliveryCompleted, on_delivery_completed),
    Subscription(SkuListed, on_sku_listed),
])
