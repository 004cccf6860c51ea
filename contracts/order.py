"""What the Order service promises: its events on `order.events`, the messages it sends, the jobs it handles."""
from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from contracts.base import Event, JobInput, Line, Message
from contracts.process import OrderStart
from contracts.registry import ORDER

SERVICE = ORDER

# --- events on order.events ---------------------------------------------------------------------


class OrderPlaced(Event):
    event_type: ClassVar[str] = "fulfilment.order.placed.v1"
    customer_id: str
    items: list[Line]


class OrderCompleted(Event):
    event_type: ClassVar[str] = "fulfilment.order.completed.v1"


class OrderCancellationRequested(Event):
    event_type: ClassVar[str] = "fulfilment.order.cancellation-requested.v1"


class OrderCancellationRefused(Event):
    """A cancellation came too late: the order was delivered, or had ended otherwise, first."""

    event_type: ClassVar[str] = "fulfilment.order.cancellation-refused.v1"
    reason: str


class OrderCancelled(Event):
    event_type: ClassVar[str] = "fulfilment.order.cancelled.v1"


class OrderDeliveryFailed(Event):
    event_type: ClassVar[str] = "fulfilment.order.delivery-failed.v1"


# --- Zeebe messages ---------------------------------------------------------------------------------

# The message start event of order-fulfillment; the order id is also the message id, so a
# resend after a crash cannot start a second instance while the broker remembers it.
ORDER_PLACED = Message("order-placed", correlation="orderId", ttl=timedelta(hours=1), variables=OrderStart)
# Interrupts the order's fulfilment wherever it is.
CANCEL_REQUESTED = Message("order-cancel-requested", correlation="orderId", ttl=timedelta(hours=1))

# --- jobs it handles -----------------------------------------------------------------------------------


class CompleteOrder(JobInput):
    """Every shipment is delivered: the order is COMPLETED."""

    job_type: ClassVar[str] = "order.complete-order"
    order_id: str


class CancelOrder(JobInput):
    """The order's work is undone: the order is CANCELLED."""

    job_type: ClassVar[str] = "order.cancel-order"
    order_id: str


class FailOrder(JobInput):
    """No courier took a shipment and the goods are back: the order ends DELIVERY_FAILED."""

    job_type: ClassVar[str] = "order.fail-order"
    order_id: str
