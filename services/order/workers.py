"""Order job workers: the BPMN job types this service owns."""

from pyzeebe import Job, ZeebeTaskRouter
from sqlalchemy.orm import Session, sessionmaker

from services.order import commands
from shared.db import unit_of_work
from shared.zeebe import JobRejected


def make_router(sessions: sessionmaker[Session]) -> ZeebeTaskRouter:
    router = ZeebeTaskRouter()

    @router.task(task_type="order.complete-order")
    def complete_order(job: Job, orderId: str | None = None) -> dict:
        if not orderId:
            raise JobRejected("variable orderId is missing")
        with unit_of_work(sessions) as session:
            if not commands.complete_order(session, orderId, job.process_instance_key):
                raise JobRejected(f"no order with id {orderId}")
        return {}

    return router
