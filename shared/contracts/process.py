"""What the BPMN processes (bpmn/) share with the code: ids, start variables, errors, the decision, the forms."""
from __future__ import annotations

from pydantic import Field, NonNegativeInt, computed_field

from shared.contracts.base import Line, Variables

FULFILMENT_PROCESS = "order-fulfillment"
SHIPMENT_PROCESS = "order-shipment"

# BPMN error codes a job may throw; boundary events in the processes catch them.
DELIVERY_FAILED = "DELIVERY_FAILED"
ORDER_CANCELLED = "ORDER_CANCELLED"
# Thrown inside the fulfilment when the order is refused by the review rules or rejected by a reviewer; the
# sub-process ends there, before anything is reserved, and the order is marked REJECTED.
ORDER_REJECTED = "ORDER_REJECTED"

# The user tasks' form (bpmn/order-decision.form) sets `decision` to one of these, shown with these labels.
DECISION_FORM = "order-decision"
DECISION_VARIABLE = "decision"
DECISION_CHOICES = {"continue": "Keep waiting", "cancel": "Cancel the order"}
DECISIONS = tuple(DECISION_CHOICES)

# The review rules (bpmn/order-review.dmn) decide before any stock is reserved; their result, a context of
# `outcome` (one of REVIEW_OUTCOMES) and `reason`, is kept in REVIEW_RESULT_VARIABLE.
REVIEW_DECISION = "order-review"
REVIEW_RESULT_VARIABLE = "orderReview"
REVIEW_OUTCOMES = ("auto", "review", "refuse")

# The review's form (bpmn/order-review.form): one choice in `review`, and an optional note in `reviewNote`.
REVIEW_FORM = "order-review"
REVIEW_VARIABLE = "review"
REVIEW_NOTE_VARIABLE = "reviewNote"
REVIEW_CHOICES = {"approve": "Approve", "reject": "Reject the order", "changes": "Ask for changes"}


class Deadlines(Variables):
    """Timer durations (ISO 8601) the process reads from variables, so each deployment sets its own."""

    stock_wait_reminder: str
    stock_wait_deadline: str
    delivery_reminder: str
    delivery_deadline: str
    # How long a reviewer, and a person deciding on late stock or an overdue delivery, has to answer: the user
    # tasks' due date; a review unanswered by then is escalated.
    order_review_deadline: str = "P1D"
    decision_deadline: str = "P1D"


class OrderStart(Deadlines):
    """The variables an order's fulfilment starts with: ids, line items and counts only, never customer data.

    With them come the facts the review rules (bpmn/order-review.dmn) decide on: `totalUnits` and `lineCount`,
    derived from the items so they cannot disagree with them, `earlierOrders` and `acceptsPartial`.
    """

    order_id: str
    items: list[Line] = Field(min_length=1)
    accepts_partial: bool
    # The customer's orders placed before this one, as the Order service counted them at placement.
    earlier_orders: NonNegativeInt = 0

    @computed_field
    @property
    def total_units(self) -> int:
        return sum(line.quantity for line in self.items)

    @computed_field
    @property
    def line_count(self) -> int:
        return len(self.items)

    @classmethod
    def names(cls) -> list[str]:
        return [*super().names(), *(f.alias or n for n, f in cls.model_computed_fields.items())]


# Every instance of both processes carries the order it fulfils in this variable at its top scope.
ORDER_ID_VARIABLE = OrderStart.model_fields["order_id"].alias
