"""Warehouse job workers: the BPMN job types this service owns."""
from __future__ import annotations

from pydantic import BaseModel, PositiveInt
from pyzeebe import ZeebeTaskRouter
from sqlalchemy.orm import Session, sessionmaker

from services.warehouse import commands
from services.warehouse.domain import InsufficientStock, UnknownSku
from shared.db import unit_of_work
from shared.zeebe import JobRejected


class JobLine(BaseModel):
    sku: str
    quantity: PositiveInt


class ReserveInput(BaseModel):
    orderId: str
    items: list[JobLine]


def make_router(sessions: sessionmaker[Session]) -> ZeebeTaskRouter:
    router = ZeebeTaskRouter()

    @router.task(task_type="warehouse.reserve-stock")
    def reserve_stock(orderId: str | None = None, items: list | None = None) -> dict:
        job = ReserveInput.model_validate({"orderId": orderId, "items": items})
        try:
            with unit_of_work(sessions) as session:
                lines = commands.reserve_stock(session, job.orderId, [(i.sku, i.quantity) for i in job.items])
        except (UnknownSku, InsufficientStock) as exc:
            raise JobRejected(str(exc)) from exc
        return {"reservation": [{"sku": l.sku, "requested": l.requested, "reserved": l.reserved} for l in lines]}

    @router.task(task_type="warehouse.pick-pack")
    def pick_pack(orderId: str | None = None) -> dict:
        if not orderId:
            raise JobRejected("variable orderId is missing")
        with unit_of_work(sessions) as session:
            shipment_id, lines = commands.pick_and_pack(session, orderId)
        return {"shipmentId": shipment_id, "shipmentItems": [{"sku": s, "quantity": q} for s, q in lines]}

    return router
