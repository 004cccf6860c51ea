"""What the two BPMN processes (bpmn/) share with the code: ids, start variables, errors, the decision form."""
from __future__ import annotations

from pydantic import Field

from contracts.base import Line, Variables

FULFILMENT_PROCESS = "order-fulfillment"
SHIPMENT_PROCESS = "order-shipment"

# BPMN error codes a job may throw; boundary events in the processes catch them.
DELIVERY_FAILED = "DELIVERY_FAILED"
ORDER_CANCELLED = "ORDER_CANCELLED"

# The user tasks' form (bpmn/order-decision.form) sets `decision` to one of these, shown with these labels.
DECISION_FORM = "order-decision"
DECISION_VARIABLE = "decision"
DECISION_CHOICES = {"continue": "Keep waiting", "cancel": "Cancel the order"}
DECISIONS = tuple(DECISION_CHOICES)


class Deadlines(Variables):
    """Timer durations (ISO 8601) the process reads from variables, so each deployment sets its own."""

    stock_wait_reminder: str
    stock_wait_deadline: str
    delivery_reminder: str
    delivery_deadline: str


class OrderStart(Deadlines):
    """The variables an order's fulfilment starts with: ids and line items only, never customer data."""

    order_id: str
    items: list[Line] = Field(min_length=1)
    accepts_partial: bool


# Every instance of both processes carries the order it fulfils in this variable at its top scope.
ORDER_ID_VARIABLE = OrderStart.model_fields["order_id"].alias
