"""Order read model: the status and timeline follow the other services' events."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.delivery.events import DeliveryCompleted, DeliveryStarted
from services.order import db
from services.order.domain import OrderStatus, ShipmentStage
from services.warehouse.events import ShipmentPacked, StockAllocated, StockReserved
from shared.envelope import DomainEvent, Envelope
from shared.inbox import EventRejected, Subscription
from shared.topics import events_topic

TOPICS = [events_topic("warehouse"), events_topic("delivery")]


def _record(session: Session, event: DomainEvent, envelope: Envelope, what: str, **facts) -> None:
    if not db.record_progress(session, event.order_id, what, event_type=envelope.type, event_id=envelope.id,
                              at=envelope.time, **facts):
        raise EventRejected(f"no order with id {event.order_id}")


def on_stock_reserved(session: Session, event: StockReserved, envelope: Envelope) -> None:
    if event.outcome == "full":
        _record(session, event, envelope, "stock reserved", reported=OrderStatus.RESERVED,
                reserved=True, backorder_open=False)
    else:
        missing = ", ".join(f"{l.requested - l.reserved}x {l.sku}" for l in event.lines if l.reserved < l.requested)
        _record(session, event, envelope, f"stock {event.outcome}ly reserved; backordered {missing}",
                reported=OrderStatus.AWAITING_STOCK, reserved=event.outcome == "partial", backorder_open=True)


def on_stock_allocated(session: Session, event: StockAllocated, envelope: Envelope) -> None:
    _record(session, event, envelope, "backordered stock arrived and is reserved", reported=OrderStatus.RESERVED,
            reserved=True, backorder_open=False)


def on_shipment_packed(session: Session, event: ShipmentPacked, envelope: Envelope) -> None:
    _record(session, event, envelope, f"shipment {event.shipment_no} ({event.shipment_id}) packed",
            reported=OrderStatus.PACKED, shipment=(event.shipment_id, ShipmentStage.PACKED))


def on_delivery_started(session: Session, event: DeliveryStarted, envelope: Envelope) -> None:
    _record(session, event, envelope, f"delivery {event.delivery_id} handed to {event.courier}",
            reported=OrderStatus.IN_DELIVERY, shipment=(event.shipment_id, ShipmentStage.IN_DELIVERY))


def on_delivery_completed(session: Session, event: DeliveryCompleted, envelope: Envelope) -> None:
    _record(session, event, envelope, f"delivery {event.delivery_id} delivered",
            reported=OrderStatus.DELIVERED, shipment=(event.shipment_id, ShipmentStage.DELIVERED))


SUBSCRIPTIONS = [
    Subscription(StockReserved, on_stock_reserved),
    Subscription(StockAllocated, on_stock_allocated),
    Subscription(ShipmentPacked, on_shipment_packed),
    Subscription(DeliveryStarted, on_delivery_started),
    Subscription(DeliveryCompleted, on_delivery_completed),
]
