"""Delivery job workers: the BPMN job types this service owns."""
import httpx
from pydantic import BaseModel, PositiveInt
from pyzeebe import ZeebeTaskRouter
from sqlalchemy.orm import Session, sessionmaker

from services.delivery import commands
from services.delivery.settings import DeliverySettings
from shared.db import unit_of_work
from shared.zeebe import BusinessError, JobRejected, required

DELIVERY_FAILED = "DELIVERY_FAILED"


class ShipmentItem(BaseModel):
    sku: str
    quantity: PositiveInt


class StartDeliveryCommand(BaseModel):
    """The command's payload is the shipment; its acknowledgment is the delivery id."""

    orderId: str
    shipmentId: str
    shipmentItems: list[ShipmentItem]


def make_router(sessions: sessionmaker[Session], settings: DeliverySettings) -> ZeebeTaskRouter:
    router = ZeebeTaskRouter()
    # One client for the process: building one per call costs a TLS context each time, which under
    # load took two thirds of this service's CPU.
    order_api = httpx.Client(base_url=settings.order_api_url, timeout=5)

    def shipping_address(order_id: str) -> dict:
        response = order_api.get(f"/orders/{order_id}/shipping-address")
        if response.status_code == 404:
            raise JobRejected(f"the Order service knows no order {order_id}")
        response.raise_for_status()  # anything else is technical: retried with backoff
        return response.json()

    @router.task(task_type="delivery.start-delivery")
    def start_delivery(orderId: str | None = None, shipmentId: str | None = None,
                       shipmentItems: list | None = None) -> dict:
        command = StartDeliveryCommand.model_validate(
            {"orderId": orderId, "shipmentId": shipmentId, "shipmentItems": shipmentItems})
        address = shipping_address(command.orderId)
        with unit_of_work(sessions) as session:
            dispatch = commands.start_delivery(
                session, order_id=command.orderId, shipment_id=command.shipmentId,
                items=[i.model_dump() for i in command.shipmentItems],
                delay_seconds=settings.courier_delay_seconds, address=address)
        if dispatch.refused:
            raise BusinessError(DELIVERY_FAILED, dispatch.refused)
        return {"deliveryId": dispatch.delivery_id}

    @router.task(task_type="delivery.redispatch")
    def redispatch(shipmentId: str | None = None) -> dict:
        with unit_of_work(sessions) as session:
            commands.redispatch(session, required(shipmentId, "shipmentId"), settings.courier_delay_seconds)
        return {}

    @router.task(task_type="delivery.cancel-deliveries")
    def cancel_deliveries(orderId: str | None = None) -> dict:
        with unit_of_work(sessions) as session:
            delivered = commands.cancel_deliveries(session, required(orderId, "orderId"))
        return {"deliveredShipmentIds": delivered}

    return router
