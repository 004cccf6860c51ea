"""Delivery job workers: the BPMN job types this service owns (shared.contracts.delivery)."""
from __future__ import annotations

from datetime import timezone

import httpx
from pyzeebe import Job
from pyzeebe.errors import BusinessError

from services.delivery import commands
from services.delivery.settings import DeliverySettings
from shared.contracts.delivery import (
    CancelDeliveries,
    CancelDeliveriesResult,
    CheckDelivered,
    CheckDeliveredResult,
    Redispatch,
    StartDelivery,
    StartDeliveryResult,
)
from shared.contracts.process import DELIVERY_FAILED
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.zeebe import JobHandlers, JobRejected

handlers = JobHandlers(refusals=commands.REFUSALS)


def order_api_client(settings: DeliverySettings) -> httpx.Client:
    # One client for the process: building one per call costs a TLS context each time, which under
    # load took two thirds of this service's CPU.
    return httpx.Client(base_url=settings.order_api_url, timeout=5, auth=settings.own_token())


def _shipping_address(order_api: httpx.Client, order_id: str) -> dict:
    response = order_api.get(f"/orders/{order_id}/shipping-address")
    if response.status_code in (404, 410):  # unknown, or its address erased on request: retrying cannot help
        raise JobRejected(f"no shipping address for order {order_id}: {response.json().get('detail')}")
    response.raise_for_status()  # anything else is technical: retried with backoff
    return response.json()


@handlers.task("delivery.start-delivery")
def start_delivery(command: StartDelivery, units: UnitsOfWork, settings: DeliverySettings,
                   order_api: httpx.Client) -> StartDeliveryResult:
    address = _shipping_address(order_api, command.order_id)
    with units() as uow:
        dispatch = commands.start_delivery(
            uow, order_id=command.order_id, shipment_id=command.shipment_id,
            items=[i.model_dump() for i in command.shipment_items],
            delay_seconds=settings.courier_delay_seconds, address=address)
    if dispatch.refused:
        raise BusinessError(DELIVERY_FAILED, dispatch.refused)
    return StartDeliveryResult(delivery_id=dispatch.delivery_id)


@handlers.task("delivery.check-delivered")
def check_delivered(shipment: CheckDelivered, units: UnitsOfWork) -> CheckDeliveredResult:
    with units() as uow:
        delivered_at = commands.delivered_at(uow, shipment.order_id, shipment.shipment_id)
    if delivered_at is None:
        return CheckDeliveredResult(delivered_at=None)
    return CheckDeliveredResult(delivered_at=delivered_at.astimezone(timezone.utc).isoformat())


@handlers.task("delivery.redispatch")
def redispatch(late: Redispatch, job: Job, units: UnitsOfWork, settings: DeliverySettings) -> None:
    # The activity instance, not the job run, is "this redispatch": a repeated job hands over no second time.
    with units() as uow:
        commands.redispatch(uow, late.shipment_id, job.element_instance_key, settings.courier_delay_seconds)


@handlers.task("delivery.cancel-deliveries")
def cancel_deliveries(job: CancelDeliveries, units: UnitsOfWork) -> CancelDeliveriesResult:
    with units() as uow:
        delivered = commands.cancel_deliveries(uow, job.order_id)
    return CancelDeliveriesResult(delivered_shipment_ids=delivered)
