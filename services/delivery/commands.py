"""Delivery use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from services.delivery import db
from services.delivery.domain import DeliveryStatus, other_courier, plan_delivery, refusal_reason
from shared.contracts.delivery import (
    DELIVERY_COMPLETED,
    Delivered,
    DeliveryCancelled,
    DeliveryCompleted,
    DeliveryRedispatched,
    DeliveryRefused,
    DeliveryStarted,
)
from shared.runtime.db import serialise_on
from shared.runtime.outbox import UnitOfWork
from shared.runtime.tracing import continued, current_traceparent


class UnknownDelivery(LookupError):
    """The process asks about a shipment this service never dispatched."""


# The failures of these use cases no retry can fix, where a job meets one (an incident).
REFUSALS = {UnknownDelivery: "{}"}


@dataclass(frozen=True)
class Dispatch:
    """The command's answer: the delivery id, or why no courier took the shipment."""

    delivery_id: str | None
    refused: str | None = None


def start_delivery(uow: UnitOfWork, *, order_id: str, shipment_id: str, items: list[dict],
                   delay_seconds: float, address: dict) -> Dispatch:
    """The delivery command: a repeated command gets the same delivery, or the same refusal, and no second event."""
    serialise_on(uow.session, order_id)
    if db.closed_orders.is_closed(uow.session, order_id):
        return Dispatch(None, refused=f"order {order_id} was cancelled")
    existing = db.find(uow.session, order_id, shipment_id)
    if existing is not None:
        return Dispatch(existing.id)
    refused = db.find_refusal(uow.session, order_id, shipment_id)
    if refused is not None:
        return Dispatch(None, refused=refused.reason)
    reason = refusal_reason(address)
    if reason is not None:
        db.insert_refusal(uow.session, order_id=order_id, shipment_id=shipment_id, reason=reason)
        uow.publish(DeliveryRefused(order_id=order_id, shipment_id=shipment_id, reason=reason))
        return Dispatch(None, refused=reason)
    delivery_id = str(uuid.uuid4())
    plan = plan_delivery(shipment_id, datetime.now(timezone.utc), delay_seconds)
    db.insert_delivery(uow.session, id=delivery_id, order_id=order_id, shipment_id=shipment_id, items=items,
                       courier=plan.courier, due_at=plan.due_at, traceparent=current_traceparent())
    uow.publish(DeliveryStarted(order_id=order_id, delivery_id=delivery_id,
                                shipment_id=shipment_id, courier=plan.courier))
    return Dispatch(delivery_id)


def finish_due_deliveries(uow: UnitOfWork) -> int:
    """The simulated courier: every due delivery is delivered, reported as an event and to the process."""
    now = datetime.now(timezone.utc)
    due = db.claim_due(uow.session, now)
    for delivery in due:
        db.mark_delivered(uow.session, delivery.id, now)
        # In the trace of the delivery command, which the order's placement started.
        with continued("delivery.deliver", delivery.traceparent, attributes={"fulfil.order_id": delivery.order_id,
                                                                             "fulfil.delivery_id": delivery.id}):
            uow.publish(DeliveryCompleted(order_id=delivery.order_id, delivery_id=delivery.id,
                                          shipment_id=delivery.shipment_id))
            uow.send(DELIVERY_COMPLETED.to(delivery.shipment_id, Delivered(delivered_at=now.isoformat()),
                                           occurrence=delivery.id))
    return len(due)


def redispatch(uow: UnitOfWork, shipment_id: str, element_instance_key: int, delay_seconds: float) -> str | None:
    """Hand a late, undelivered shipment to the next courier, once per Redispatch activity instance
    (`element_instance_key`); returns the courier who took it (None if there was nothing to do)."""
    # Locked: a repeat of the same job running at the same time waits here, then finds the first one's row.
    delivery = db.find_by_shipment(uow.session, shipment_id)
    if delivery is None:
        return None
    done = db.find_redispatch(uow.session, element_instance_key)
    if done is not None:
        return done.courier
    if delivery.status != DeliveryStatus.DISPATCHED:
        return None
    courier = other_courier(delivery.courier)
    db.reassign(uow.session, delivery.id, courier, datetime.now(timezone.utc) + timedelta(seconds=delay_seconds))
    db.insert_redispatch(uow.session, element_instance_key=element_instance_key, delivery_id=delivery.id,
                         courier=courier)
    uow.publish(DeliveryRedispatched(order_id=delivery.order_id, delivery_id=delivery.id,
                                     shipment_id=shipment_id, courier=courier))
    return courier


def delivered_at(uow: UnitOfWork, order_id: str, shipment_id: str) -> datetime | None:
    """When the shipment was delivered (None: not yet); raises UnknownDelivery if it was never dispatched."""
    delivery = db.find(uow.session, order_id, shipment_id)
    if delivery is None:
        raise UnknownDelivery(f"no delivery of shipment {shipment_id} (order {order_id})")
    return delivery.delivered_at


def cancel_deliveries(uow: UnitOfWork, order_id: str) -> list[str]:
    """Call back every delivery of the order not yet delivered; returns the shipments that were delivered."""
    serialise_on(uow.session, order_id)
    db.closed_orders.close(uow.session, order_id)
    delivered = []
    for delivery in db.of_order_for_update(uow.session, order_id):
        if delivery.status == DeliveryStatus.DELIVERED:
            delivered.append(delivery.shipment_id)
        elif delivery.status == DeliveryStatus.DISPATCHED:
            db.set_status(uow.session, delivery.id, DeliveryStatus.CANCELLED)
            uow.publish(DeliveryCancelled(order_id=order_id, delivery_id=delivery.id,
                                          shipment_id=delivery.shipment_id))
    return delivered
