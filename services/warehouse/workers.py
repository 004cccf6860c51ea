"""Warehouse job workers: the BPMN job types this service owns."""
from pydantic import BaseModel, PositiveInt
from pyzeebe import ZeebeTaskRouter
from sqlalchemy.orm import Session, sessionmaker

from services.warehouse import commands
from services.warehouse.domain import UnknownSku
from shared.db import unit_of_work
from shared.zeebe import JobRejected, required


class JobLine(BaseModel):
    sku: str
    quantity: PositiveInt


class ReserveInput(BaseModel):
    orderId: str
    items: list[JobLine]


class PickInput(BaseModel):
    orderId: str
    shipmentNo: PositiveInt


def make_router(sessions: sessionmaker[Session]) -> ZeebeTaskRouter:
    router = ZeebeTaskRouter()

    @router.task(task_type="warehouse.reserve-stock")
    def reserve_stock(orderId: str | None = None, items: list | None = None) -> dict:
        job = ReserveInput.model_validate({"orderId": orderId, "items": items})
        try:
            with unit_of_work(sessions) as session:
                reservation = commands.reserve_stock(session, job.orderId, [(i.sku, i.quantity) for i in job.items])
        except UnknownSku as exc:
            raise JobRejected(str(exc)) from exc
        return {"reservationOutcome": reservation.outcome.value}

    @router.task(task_type="warehouse.pick-pack")
    def pick_pack(orderId: str | None = None, shipmentNo: int | None = None) -> dict:
        job = PickInput.model_validate({"orderId": orderId, "shipmentNo": shipmentNo})
        with unit_of_work(sessions) as session:
            shipment_id, lines = commands.pick_and_pack(session, job.orderId, job.shipmentNo)
        return {"shipmentId": shipment_id, "shipmentItems": [{"sku": s, "quantity": q} for s, q in lines]}

    @router.task(task_type="warehouse.expedite-backorder")
    def expedite_backorder(orderId: str | None = None) -> dict:
        with unit_of_work(sessions) as session:
            commands.expedite_backorder(session, required(orderId, "orderId"))
        return {}

    @router.task(task_type="warehouse.return-shipment")
    def return_shipment(orderId: str | None = None, shipmentId: str | None = None) -> dict:
        with unit_of_work(sessions) as session:
            commands.return_shipment(session, required(orderId, "orderId"), required(shipmentId, "shipmentId"))
        return {}

    @router.task(task_type="warehouse.release-stock")
    def release_stock(orderId: str | None = None, deliveredShipmentIds: list | None = None) -> dict:
        with unit_of_work(sessions) as session:
            commands.release_stock(session, required(orderId, "orderId"), deliveredShipmentIds or [])
        return {}

    return router

