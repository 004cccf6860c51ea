"""Delivery job workers: the BPMN job types this service owns."""
from __future__ import annotations

from pydantic import BaseModel, PositiveInt
from pyzeebe import ZeebeTaskRouter
from sqlalchemy.orm import Session, sessionmaker

from services.delivery import commands
from shared.db import unit_of_work


class ShipmentItem(BaseModel):
    sku: str
    quantity: PositiveInt


class StartDeliveryCommand(BaseModel):
    """The command's payload is the shipment; its acknowledgment is the delivery id."""

    orderId: str
    shipmentId: str
    shipmentItems: list[ShipmentItem]


def make_router(sessions: sessionmaker[Session], courier_delay_seconds: float) -> ZeebeTaskRouter:
    router = ZeebeTaskRouter()

    @router.task(task_type="delivery.start-delivery")
    def start_delivery(orderId: str | None = None, shipmentId: str | None = None,
                       shipmentItems: list | None = None) -> dict:
        command = StartDeliveryCommand.model_validate(
            {"orderId": orderId, "shipmentId": shipmentId, "shipmentItems": shipmentItems})
        with unit_of_work(sessions) as session:
            delivery_id = commands.start_delivery(
                session, order_id=command.orderId, shipment_id=command.shipmentId,
                items=[i.model_dump() for i in command.shipmentItems], delay_seconds=courier_delay_seconds)
        return {"deliveryId": delivery_id}

    return router
