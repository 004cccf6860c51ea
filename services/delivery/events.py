"""Events the Delivery service publishes on `delivery.events`, and the message it sends the process."""
from __future__ import annotations

from typing import ClassVar

from shared.envelope import DomainEvent

# Caught by the shipment process's delivery wait; correlated by shipment id (an order may have two).
DELIVERY_COMPLETED_MESSAGE = "delivery-completed"


class DeliveryStarted(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.delivery.started.v1"
    delivery_id: str
    shipment_id: str
    courier: str


class DeliveryCompleted(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.delivery.completed.v1"
    delivery_id: str
    shipment_id: str


class DeliveryRedispatched(DomainEvent):
    """The first courier was late; another one took the shipment."""

    event_type: ClassVar[str] = "fulfilment.delivery.redispatched.v1"
    delivery_id: str
    shipment_id: str
    courier: str


class DeliveryCancelled(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.delivery.cancelled.v1"
    delivery_id: str
    shipment_id: str


class DeliveryRefused(DomainEvent):
    """No courier would take the shipment; the process returns the goods to stock."""

    event_type: ClassVar[str] = "fulfilment.delivery.refused.v1"
    shipment_id: str
    reason: str
