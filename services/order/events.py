"""Events the Order service publishes on `order.events`, and the Zeebe message that starts fulfilment."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, PositiveInt

from shared.envelope import DomainEvent

# The message start event of bpmn/order-fulfillment.bpmn; correlated by order id.
ORDER_PLACED_MESSAGE = "order-placed"
# Interrupts the order's fulfilment wherever it is; correlated by order id.
CANCEL_REQUESTED_MESSAGE = "order-cancel-requested"


class Line(BaseModel):
    sku: str
    quantity: PositiveInt


class OrderPlaced(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.placed.v1"
    customer_id: str
    items: list[Line]


class OrderCompleted(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.completed.v1"


class OrderCancellationRequested(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.cancellation-requested.v1"


class OrderCancelled(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.cancelled.v1"


class OrderDeliveryFailed(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.delivery-failed.v1"
