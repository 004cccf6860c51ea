"""Order job workers: the BPMN job types this service owns."""
from pyzeebe import Job, ZeebeTaskRouter
from sqlalchemy.orm import Session, sessionmaker

from services.order import commands
from services.order.domain import OrderStatus
from shared.db import unit_of_work
from shared.zeebe import JobRejected, required


def make_router(sessions: sessionmaker[Session]) -> ZeebeTaskRouter:
    router = ZeebeTaskRouter()

    def close(order_id: str | None, status: OrderStatus, process_instance_key: int) -> dict:
        order_id = required(order_id, "orderId")
        with unit_of_work(sessions) as session:
            if not commands.close_order(session, order_id, status, process_instance_key):
                raise JobRejected(f"no order with id {order_id}")
        return {}

    @router.task(task_type="order.complete-order")
    def complete_order(job: Job, orderId: str | None = None) -> dict:
        return close(orderId, OrderStatus.COMPLETED, job.process_instance_key)

    @router.task(task_type="order.cancel-order")
    def cancel_order(job: Job, orderId: str | None = None) -> dict:
        return close(orderId, OrderStatus.CANCELLED, job.process_instance_key)

    @router.task(task_type="order.fail-order")
    def fail_order(job: Job, orderId: str | None = None) -> dict:
        return close(orderId, OrderStatus.DELIVERY_FAILED, job.process_instance_key)

    return router
