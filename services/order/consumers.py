"""Order read model: the status and timeline follow the other services' events."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.delivery.events import DeliveryCompleted, DeliveryStarted
from services.order import db
from services.order.domain import OrderStatus
from services.warehouse.events import ShipmentPacked, StockReserved
from shared.envelope import DomainEvent, Envelope
from shared.inbox import EventRejected, Subscription
from shared.topics import events_topic

TOPICS = [events_topic("warehouse"), events_topic("delivery")]


def _progress(status: OrderStatus, describe):
    def handle(session: Session, event: DomainEvent, envelope: Envelope) -> None:
        if not db.record_progress(session, event.order_id, status, describe(event),
                                  event_type=envelope.type, event_id=envelope.id, at=envelope.time):
            raise EventRejected(f"no order with id {event.order_id}")
    return handle


SUBSCRIPTIONS = [
    Subscription(StockReserved, _progress(
        OrderStatus.RESERVED, lambda e: f"stock reserved ({e.outcome})")),
    Subscription(ShipmentPacked, _progress(
        OrderStatus.PACKED, lambda e: f"shipment {e.shipment_id} packed")),
    Subscription(DeliveryStarted, _progress(
        OrderStatus.IN_DELIVERY, lambda e: f"delivery {e.delivery_id} handed to {e.courier}")),
    Subscription(DeliveryCompleted, _progress(
        OrderStatus.DELIVERED, lambda e: f"delivery {e.delivery_id} delivered")),
]
