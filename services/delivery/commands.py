"""Delivery use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from services.delivery import db
from services.delivery.domain import plan_delivery
from services.delivery.events import DELIVERY_COMPLETED_MESSAGE, DeliveryCompleted, DeliveryStarted
from shared.outbox import EventPublisher, add_zeebe_message
from shared.topics import events_topic

publisher = EventPublisher(source="/fulfilment/delivery", topic=events_topic("delivery"))


def start_delivery(session: Session, *, order_id: str, shipment_id: str, items: list[dict],
                   delay_seconds: float) -> str:
    """The delivery command: returns the delivery id, the same one for a repeated command."""
    existing = db.find(session, order_id, shipment_id)
    if existing is not None:
        return existing.id
    delivery_id = str(uuid.uuid4())
    plan = plan_delivery(shipment_id, datetime.now(timezone.utc), delay_seconds)
    db.insert_delivery(session, id=delivery_id, order_id=order_id, shipment_id=shipment_id, items=items,
                       courier=plan.courier, due_at=plan.due_at)
    publisher.publish(session, DeliveryStarted(order_id=order_id, delivery_id=delivery_id,
                                               shipment_id=shipment_id, courier=plan.courier))
    return delivery_id


def finish_due_deliveries(session: Session) -> int:
    """The simulated courier: every due delivery is delivered, reported as an event and to the process."""
    now = datetime.now(timezone.utc)
    due = db.claim_due(session, now)
    for delivery in due:
        db.mark_delivered(session, delivery.id, now)
        publisher.publish(session, DeliveryCompleted(order_id=delivery.order_id, delivery_id=delivery.id,
                                                     shipment_id=delivery.shipment_id))
        add_zeebe_message(session, name=DELIVERY_COMPLETED_MESSAGE, correlation_key=delivery.shipment_id,
                          message_id=delivery.id, variables={"deliveredAt": now.isoformat()})
    return len(due)
