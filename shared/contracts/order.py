"""What the Order service promises: its events on `order.events`, the messages it sends, the jobs it handles."""
from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel

from shared.contracts.base import Line, Message, MessageId, OrderEvent, OrderJob, Variables
from shared.contracts.process import OrderStart
from shared.contracts.registry import ORDER

SERVICE = ORDER

# --- events on order.events ---------------------------------------------------------------------


class OrderPlaced(OrderEvent, event_type="fulfilment.order.placed.v1"):
    customer_id: str
    items: list[Line]


class OrderCompleted(OrderEvent, event_type="fulfilment.order.completed.v1"):
    """Every shipment of the order is delivered."""


class OrderCancellationRequested(OrderEvent, event_type="fulfilment.order.cancellation-requested.v1"):
    """Someone asked to cancel the order; cancelled or cancellation-refused follows."""


class OrderCancellationRefused(OrderEvent, event_type="fulfilment.order.cancellation-refused.v1"):
    """A cancellation came too late: the order was delivered, or had ended otherwise, first."""

    reason: str


class OrderCancelled(OrderEvent, event_type="fulfilment.order.cancelled.v1"):
    """The order's work is undone: stock released, shipments returned, deliveries called back."""


class OrderDeliveryFailed(OrderEvent, event_type="fulfilment.order.delivery-failed.v1"):
    """No courier took a shipment; its goods are back in stock and the order has ended."""


class OrderReviewRequested(OrderEvent, event_type="fulfilment.order.review-requested.v1"):
    """The review rules sent the order to a person (group fulfilment-reviewers) before any stock is reserved."""

    reason: str


class OrderReviewEscalated(OrderEvent, event_type="fulfilment.order.review-escalated.v1"):
    """Nobody answered the order's review by its due date; the review stays open."""


class OrderRejected(OrderEvent, event_type="fulfilment.order.rejected.v1"):
    """The order ended before anything was reserved: refused by the review rules, or rejected by a reviewer.

    `outcome`: refused (by the rules), rejected or changes-requested (a reviewer's answer)."""

    outcome: Literal["refused", "rejected", "changes-requested"]
    reason: str


# --- Zeebe messages ---------------------------------------------------------------------------------

# The message start event of order-fulfillment; the order id is also the message id, so a
# resend after a crash cannot start a second instance while the broker remembers it.
ORDER_PLACED = Message("order-placed", correlation="orderId", ttl=timedelta(hours=1), variables=OrderStart,
                       message_id=MessageId.KEY)
# Interrupts the order's fulfilment wherever it is.
CANCEL_REQUESTED = Message("order-cancel-requested", correlation="orderId", ttl=timedelta(hours=1))


class AbortStart(Variables):
    """What order-abort starts with: the order's id, nothing of the operator's reason (that stays on the timeline)."""

    order_id: str


# An operator's abort, in this order: the fulfilment stops wherever it is (kept as long as a start may still arrive,
# so a late start stops at once), then order-abort undoes its work.
STOP_REQUESTED = Message("order-stop-requested", correlation="orderId", ttl=timedelta(hours=1))
ABORT_REQUESTED = Message("order-abort-requested", correlation="orderId", ttl=timedelta(hours=1), variables=AbortStart)

# --- jobs it handles -----------------------------------------------------------------------------------


class CompleteOrder(OrderJob, job_type="order.complete-order"):
    """Every shipment is delivered: the order is COMPLETED."""


class CancelOrder(OrderJob, job_type="order.cancel-order"):
    """The order's work is undone: the order is CANCELLED."""


class FailOrder(OrderJob, job_type="order.fail-order"):
    """No courier took a shipment and the goods are back: the order ends DELIVERY_FAILED."""


class ReviewResult(BaseModel):
    """What the review rules (bpmn/order-review.dmn) decided: the process variable `orderReview`."""

    outcome: Literal["auto", "review", "refuse"]
    reason: str


class HoldForReview(OrderJob, job_type="order.hold-for-review"):
    """The review rules sent the order to a person: it is IN_REVIEW, with their reason on its timeline."""

    order_review: ReviewResult


class EscalateReview(OrderJob, job_type="order.escalate-review"):
    """The review is past its due date: recorded on the order and published; the review stays open."""


class RejectOrder(OrderJob, job_type="order.reject-order"):
    """Refused by the rules, or a reviewer rejected it or asked for changes: the order ends REJECTED.

    `review` and `reviewNote` are the reviewer's answer (the form bpmn/order-review.form); absent when the rules
    refused the order without one."""

    order_review: ReviewResult
    review: Literal["approve", "reject", "changes"] | None = None
    review_note: str | None = None


