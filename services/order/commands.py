"""Order use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Row

from services.order import db
from services.order.domain import (
    FINAL_STATUSES,
    Cancellation,
    CancelOutcome,
    ImplausibleReport,
    OrderLimits,
    OrderLine,
    OrderStatus,
    Progress,
    Report,
    ReviewMismatch,
    UnknownOrder,
    answer_cancel_request,
    check_abortable,
    check_id,
    check_idempotent_retry,
    check_lines,
    check_listing,
    check_printable,
    normalise_lines,
    orders_to_erase,
    rejection,
    request_fingerprint,
    settle_cancellation,
    status_of,
    take_in,
)
from shared.contracts.base import Line
from shared.contracts.order import (
    ABORT_REQUESTED,
    CANCEL_REQUESTED,
    ORDER_PLACED,
    STOP_REQUESTED,
    AbortStart,
    OrderCancellationRefused,
    OrderCancellationRequested,
    OrderCancelled,
    OrderCompleted,
    OrderDeliveryFailed,
    OrderPlaced,
    OrderRejected,
    OrderReviewEscalated,
    OrderReviewRequested,
    ReviewResult,
)
from shared.contracts.process import Deadlines, OrderStart
from shared.runtime.envelope import Envelope
from shared.runtime.outbox import UnitOfWork, latest_message
from shared.runtime.tracing import current_trace_id

# The failures of these use cases no retry can fix, and how their reason reads where a job or an event meets one
# (an incident, a dead letter): the order is not this service's, or what is asked of it cannot be taken in.
REFUSALS = {UnknownOrder: "no order with id {}", ImplausibleReport: "{}", ReviewMismatch: "{}"}


@dataclass(frozen=True)
class Placed:
    order_id: str
    created: bool


def place_order(uow: UnitOfWork, *, customer_id: str, items: list[OrderLine], shipping_address: dict,
                accepts_partial: bool, idempotency_key: str | None, deadlines: Deadlines,
                limits: OrderLimits) -> Placed:
    """Store the order and, in the same transaction, the event and the message that starts its process.

    Raises OrderLinesRefused for an item whose SKU is not in the catalog or that takes the order over its limits.
    """
    lines = normalise_lines(items)
    fingerprint = request_fingerprint({
        "customer_id": customer_id,
        "items": [{"sku": l.sku, "quantity": l.quantity} for l in lines],
        "shipping_address": shipping_address,
        "accepts_partial": accepts_partial,
    })
    if idempotency_key:
        existing = db.find_by_idempotency_key(uow.session, customer_id, idempotency_key)
        if existing is not None:
            check_idempotent_retry(existing.request_fingerprint, fingerprint)
            return Placed(existing.id, created=False)
    check_lines(items, db.listed_skus(uow.session, {l.sku for l in lines}), limits)
    order_id = str(uuid.uuid4())
    earlier = db.earlier_orders(uow.session, customer_id)
    db.insert_order(uow.session, order_id=order_id, customer_id=customer_id, shipping_address=shipping_address,
                    lines=lines, accepts_partial=accepts_partial, idempotency_key=idempotency_key,
                    fingerprint=fingerprint, trace_id=current_trace_id())
    wire_items = [Line(sku=l.sku, quantity=l.quantity) for l in lines]
    uow.publish(OrderPlaced(order_id=order_id, customer_id=customer_id, items=wire_items))
    # Ids, line items and counts only: customer data never enters the process.
    start = OrderStart(order_id=order_id, items=wire_items, accepts_partial=accepts_partial, earlier_orders=earlier,
                       **dict(deadlines))
    uow.send(ORDER_PLACED.to(order_id, start))
    return Placed(order_id, created=True)


def list_sku(uow: UnitOfWork, sku: str, name: str) -> None:
    """The Warehouse listed a SKU: orders may name it from now on. Raises ImplausibleReport when it cannot be kept."""
    check_listing(sku, name)
    db.list_sku(uow.session, sku, name)


CLOSING_EVENTS = {
    OrderStatus.COMPLETED: (OrderCompleted, "order completed"),
    OrderStatus.CANCELLED: (OrderCancelled, "order cancelled; stock returned"),
    OrderStatus.DELIVERY_FAILED: (OrderDeliveryFailed, "delivery failed; goods returned to stock"),
}


def close_order(uow: UnitOfWork, order_id: str, status: OrderStatus, process_instance_key: int) -> None:
    """The process's last step sets the final status, which also settles a pending cancellation.

    Raises UnknownOrder if the order does not exist.
    """
    check_id("order id", order_id)
    order = db.lock_for_progress(uow.session, order_id)
    if order is None:
        raise UnknownOrder(order_id)
    if order.status == status:
        return  # a retried job: already done
    event, what = CLOSING_EVENTS[status]
    db.set_process_instance(uow.session, order_id, process_instance_key)
    record_progress(uow, order_id, what, Report(final=status), reported=status, locked=order)
    uow.publish(event(order_id=order_id))
    settled = settle_cancellation(db.cancellation_of(order), status, datetime.now(timezone.utc))
    if settled is not None:
        db.save_cancellation(uow.session, order_id, settled)
        if settled.outcome is CancelOutcome.REFUSED:
            _refuse_cancellation(uow, order_id, status, settled)


def hold_for_review(uow: UnitOfWork, order_id: str, review: ReviewResult) -> None:
    """The review rules sent the order to a person: it is IN_REVIEW until they answer. Raises UnknownOrder."""
    check_id("order id", order_id)
    order = db.lock_for_progress(uow.session, order_id)
    if order is None:
        raise UnknownOrder(order_id)
    if order.status != OrderStatus.PLACED:
        return  # a retried job, or the order moved on (a cancellation): nothing to hold
    record_progress(uow, order_id, f"waiting for review: {review.reason}", Report(in_review=True),
                    reported=OrderStatus.IN_REVIEW, locked=order)
    uow.publish(OrderReviewRequested(order_id=order_id, reason=review.reason))


def escalate_review(uow: UnitOfWork, order_id: str, job_key: int) -> None:
    """Nobody answered the review by its due date: on the order's timeline and published, once per timer."""
    check_id("order id", order_id)
    order = db.get_order(uow.session, order_id, for_update=True)
    if order is None:
        raise UnknownOrder(order_id)
    what = "review overdue, escalated"
    if db.has_timeline_entry(uow.session, order_id, what, event_id=str(job_key)):
        return  # a retried job
    db.add_timeline(uow.session, order_id, order.status, what, event_type=OrderReviewEscalated.event_type,
                    event_id=str(job_key))
    uow.publish(OrderReviewEscalated(order_id=order_id))


def reject_order(uow: UnitOfWork, order_id: str, review: ReviewResult, answer: str | None, note: str | None,
                 process_instance_key: int) -> None:
    """The order ends REJECTED before anything was reserved, with the reason on it and its timeline.

    Raises UnknownOrder, or ReviewMismatch when the review does not bear a rejection out.
    """
    check_id("order id", order_id)
    rejected = rejection(review.outcome, review.reason, answer, note)
    order = db.lock_for_progress(uow.session, order_id)
    if order is None:
        raise UnknownOrder(order_id)
    if order.status == OrderStatus.REJECTED:
        return  # a retried job: already done
    db.set_process_instance(uow.session, order_id, process_instance_key)
    db.set_status_reason(uow.session, order_id, rejected.reason)
    record_progress(uow, order_id, f"order rejected: {rejected.reason}", Report(final=OrderStatus.REJECTED),
                    reported=OrderStatus.REJECTED, locked=order)
    uow.publish(OrderRejected(order_id=order_id, outcome=rejected.outcome, reason=rejected.reason))
    settled = settle_cancellation(db.cancellation_of(order), OrderStatus.REJECTED, datetime.now(timezone.utc))
    if settled is not None:
        db.save_cancellation(uow.session, order_id, settled)
        _refuse_cancellation(uow, order_id, OrderStatus.REJECTED, settled)


def request_cancellation(uow: UnitOfWork, order_id: str, *, actor: str) -> tuple[Cancellation, OrderStatus]:
    """Ask the order's process to stop, or refuse at once when the order is past that point; `actor` (the customer
    or an operator: their token's subject) is named on the timeline.

    Returns the order's cancellation — the first one when asked again — and its status.
    """
    order = db.get_order(uow.session, order_id, for_update=True)
    if order is None:
        raise UnknownOrder(order_id)
    status = OrderStatus(order.status)
    earlier = db.cancellation_of(order)
    cancellation = answer_cancel_request(status, earlier, datetime.now(timezone.utc))
    if cancellation is earlier:
        return cancellation, status
    db.save_cancellation(uow.session, order_id, cancellation)
    db.add_timeline(uow.session, order_id, status, f"cancellation requested by {actor}")
    uow.publish(OrderCancellationRequested(order_id=order_id))
    if cancellation.outcome is CancelOutcome.PENDING:
        uow.send(CANCEL_REQUESTED.to(order_id))
    elif cancellation.outcome is CancelOutcome.REFUSED:
        _refuse_cancellation(uow, order_id, status, cancellation)
    return cancellation, status


def abort_order(uow: UnitOfWork, order_id: str, *, reason: str, actor: str) -> bool:
    """An operator ends an order its process cannot finish (an incident nobody can fix, an instance cancelled in the
    engine): its fulfilment stops wherever it is, if it still runs, and order-abort undoes its work as a cancellation
    does and marks it CANCELLED. Returns False when an abort was asked for before (it runs already).

    Raises UnknownOrder, or OrderEnded when the order is final.
    """
    order = db.get_order(uow.session, order_id, for_update=True)
    if order is None:
        raise UnknownOrder(order_id)
    check_abortable(order_id, OrderStatus(order.status))
    if latest_message(uow.session, ABORT_REQUESTED.name, order_id) is not None:
        return False
    db.add_timeline(uow.session, order_id, order.status, f"abort requested by {actor}: {reason}")
    # Written in this order, so the engine stops the fulfilment before order-abort starts undoing it.
    uow.send(STOP_REQUESTED.to(order_id))
    uow.send(ABORT_REQUESTED.to(order_id, AbortStart(order_id=order_id)))
    return True


def erase_personal_data(uow: UnitOfWork, customer_id: str, *, actor: str) -> list[str]:
    """Erase a customer's personal data from every order of theirs (the ids, lines and history stay), with an
    entry on each order's timeline; returns the orders erased now (none when done before).

    Raises OrdersStillOpen while an order of theirs is not final.
    """
    found = db.orders_of_customer(uow.session, customer_id)
    erased = orders_to_erase({o.id: (OrderStatus(o.status), o.personal_data_erased_at is not None) for o in found})
    db.erase_personal_data(uow.session, erased, datetime.now(timezone.utc))
    for order in found:
        if order.id in erased:
            db.add_timeline(uow.session, order.id, order.status,
                            f"personal data erased on request by {actor} (shipping address)")
    return erased


def _refuse_cancellation(uow: UnitOfWork, order_id: str, status: OrderStatus, refused: Cancellation) -> None:
    db.add_timeline(uow.session, order_id, status, f"cancellation refused: {refused.reason}")
    uow.publish(OrderCancellationRefused(order_id=order_id, reason=refused.reason))


def record_progress(uow: UnitOfWork, order_id: str, what: str, report: Report, *, reported: OrderStatus,
                    caused_by: Envelope | None = None, locked: Row | None = None) -> None:
    """Take in what a service reported, re-derive the status, log it. `locked`: the order as
    `db.lock_for_progress` read it, when the caller holds it already.

    Raises UnknownOrder when the order is not this service's, ImplausibleReport when the report
    cannot be taken in: both are about the report, so trying again cannot help.
    """
    check_id("order id", order_id)
    check_printable(what)
    order = locked if locked is not None else db.lock_for_progress(uow.session, order_id)
    if order is None:
        raise UnknownOrder(order_id)
    stored = OrderStatus(order.status)
    current = Progress(units_ordered=order.units_ordered, in_review=stored is OrderStatus.IN_REVIEW,
                       reserved=order.reserved,
                       backorder_open=order.backorder_open, final=stored if stored in FINAL_STATUSES else None)
    progress, shipments = take_in(current, db.get_shipments(uow.session, order_id), report)
    changed = {report.shipment[0]: shipments[report.shipment[0]]} if report.shipment else {}
    db.save_progress(uow.session, order_id, progress, status_of(progress), changed)
    # The timeline records the stage each event reports, at the time it happened, even when
    # events from different topics arrive out of order.
    if caused_by is None:
        db.add_timeline(uow.session, order_id, reported, what)
    else:
        db.add_timeline(uow.session, order_id, reported, what, event_type=caused_by.type, event_id=caused_by.id,
                        at=caused_by.time)
