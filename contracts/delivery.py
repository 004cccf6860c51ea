"""What the Delivery service promises: its events on `delivery.events`, the message it sends, the jobs it handles."""
from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from contracts.base import Event, JobInput, Line, Message, Variables
from contracts.registry import DELIVERY

SERVICE = DELIVERY

# --- events on delivery.events --------------------------------------------------------------------------


class DeliveryStarted(Event):
    event_type: ClassVar[str] = "fulfilment.delivery.started.v1"
    delivery_id: str
    shipment_id: str
    courier: str


class DeliveryCompleted(Event):
    event_type: ClassVar[str] = "fulfilment.delivery.completed.v1"
    delivery_id: str
    shipment_id: str


class DeliveryRedispatched(Event):
    """The first courier was late; another one took the shipment."""

    event_type: ClassVar[str] = "fulfilment.delivery.redispatched.v1"
    delivery_id: str
    shipment_id: str
    courier: str


class DeliveryCancelled(Event):
    event_type: ClassVar[str] = "fulfilment.delivery.cancelled.v1"
    delivery_id: str
    shipment_id: str


class DeliveryRefused(Event):
    """No courier would take the shipment; the process returns the goods to stock."""

    event_type: ClassVar[str] = "fulfilment.delivery.refused.v1"
    shipment_id: str
    reason: str


# --- Zeebe messages ---------------------------------------------------------------------------------


class Delivered(Variables):
    delivered_at: str


# Caught by the shipment process's delivery wait; correlated by shipment id (an order may have two).
# The broker drops it after its TTL, so the process never relies on it alone: see CheckDelivered.
DELIVERY_COMPLETED = Message("delivery-completed", correlation="shipmentId", ttl=timedelta(hours=1),
                             variables=Delivered)

# --- jobs it handles -----------------------------------------------------------------------------------


class StartDeliveryResult(Variables):
    delivery_id: str


class StartDelivery(JobInput):
    """The delivery command: its payload is the shipment, its acknowledgment the delivery id.

    Throws the BPMN error DELIVERY_FAILED when no courier takes the parcel.
    """

    job_type: ClassVar[str] = "delivery.start-delivery"
    output: ClassVar[type[Variables]] = StartDeliveryResult
    order_id: str
    shipment_id: str
    shipment_items: list[Line]


class CheckDeliveredResult(Variables):
    # The variable delivery-completed sets too; null while the parcel is still under way.
    delivered_at: str | None


class CheckDelivered(JobInput):
    """Before the process (re-)enters its wait for delivery-completed: is the shipment delivered already?

    The message lives only for its TTL; the Delivery service's record of the delivery never expires,
    so a delivery that completed while nobody waited (a person deciding, a job in an incident) is
    still seen.
    """

    job_type: ClassVar[str] = "delivery.check-delivered"
    output: ClassVar[type[Variables]] = CheckDeliveredResult
    order_id: str
    shipment_id: str


class Redispatch(JobInput):
    """The delivery is late: hand it to the next courier, once per activation of the reminder."""

    job_type: ClassVar[str] = "delivery.redispatch"
    shipment_id: str


class CancelDeliveriesResult(Variables):
    delivered_shipment_ids: list[str]


class CancelDeliveries(JobInput):
    """Call back every delivery of the order not yet delivered."""

    job_type: ClassVar[str] = "delivery.cancel-deliveries"
    output: ClassVar[type[Variables]] = CancelDeliveriesResult
    order_id: str
