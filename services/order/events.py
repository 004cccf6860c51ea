"""Events the Order service publishes on `order.events`, and the Zeebe message that starts fulfilment."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, PositiveInt

from shared.envelope import DomainEvent

# The message start event of bpmn/order-fulfillment.bpmn; correlated by order id.
ORDER_PLACED_MESSAGE = "order-placed"


class Line(BaseModel):
    sku: str
    quantity: PositiveInt


class OrderPlaced(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.placed.v1"
    customer_id: str
    items: list[Line]


class OrderCompleted(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.order.completed.v1"
