"""Order job workers: the BPMN job types this service owns (contracts.order)."""
from __future__ import annotations

from pyzeebe import Job
from sqlalchemy.engine import Engine

from contracts.order import CancelOrder, CompleteOrder, FailOrder
from runtime.db import unit_of_work
from runtime.zeebe import JobHandlers, JobRejected
from services.order import commands
from services.order.domain import ImplausibleReport, OrderStatus, UnknownOrder

handlers = JobHandlers()


def _close(sessions: Engine, order_id: str, status: OrderStatus, job: Job) -> None:
    try:
        with unit_of_work(sessions) as session:
            commands.close_order(session, order_id, status, job.process_instance_key)
    except UnknownOrder:
        raise JobRejected(f"no order with id {order_id}") from None
    except ImplausibleReport as exc:
        raise JobRejected(str(exc)) from exc


@handlers.task("order.complete-order")
def complete_order(order: CompleteOrder, job: Job, sessions: Engine) -> None:
    _close(sessions, order.order_id, OrderStatus.COMPLETED, job)


@handlers.task("order.cancel-order")
def cancel_order(order: CancelOrder, job: Job, sessions: Engine) -> None:
    _close(sessions, order.order_id, OrderStatus.CANCELLED, job)


@handlers.task("order.fail-order")
def fail_order(order: FailOrder, job: Job, sessions: Engine) -> None:
    _close(sessions, order.order_id, OrderStatus.DELIVERY_FAILED, job)
