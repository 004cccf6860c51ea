"""Order job workers: the BPMN job types this service owns (shared.contracts.order)."""
from __future__ import annotations

from pyzeebe import Job

from services.order import commands
from services.order.domain import OrderStatus
from shared.contracts.order import CancelOrder, CompleteOrder, EscalateReview, FailOrder, HoldForReview, RejectOrder
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.zeebe import JobHandlers

handlers = JobHandlers(refusals=commands.REFUSALS)


def _close(units: UnitsOfWork, order_id: str, status: OrderStatus, job: Job) -> None:
    with units() as uow:
        commands.close_order(uow, order_id, status, job.process_instance_key)


@handlers.task("order.complete-order")
def complete_order(order: CompleteOrder, job: Job, units: UnitsOfWork) -> None:
    _close(units, order.order_id, OrderStatus.COMPLETED, job)


@handlers.task("order.cancel-order")
def cancel_order(order: CancelOrder, job: Job, units: UnitsOfWork) -> None:
    _close(units, order.order_id, OrderStatus.CANCELLED, job)


@handlers.task("order.fail-order")
def fail_order(order: FailOrder, job: Job, units: UnitsOfWork) -> None:
    _close(units, order.order_id, OrderStatus.DELIVERY_FAILED, job)


@handlers.task("order.hold-for-review")
def hold_for_review(order: HoldForReview, units: UnitsOfWork) -> None:
    with units() as uow:
        commands.hold_for_review(uow, order.order_id, order.order_review)


@handlers.task("order.escalate-review")
def escalate_review(order: EscalateReview, job: Job, units: UnitsOfWork) -> None:
    with units() as uow:
        commands.escalate_review(uow, order.order_id, job.key)


@handlers.task("order.reject-order")
def reject_order(order: RejectOrder, job: Job, units: UnitsOfWork) -> None:
    with units() as uow:
        commands.reject_order(uow, order.order_id, order.order_review, order.review, order.review_note,
                              job.process_instance_key)
