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
