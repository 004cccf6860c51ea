"""What the Delivery service promises: its events on `delivery.events`, the message it sends, the jobs it handles."""
from __future__ import annotations

from datetime import timedelta

from shared.contracts.base import JobInput, Line, Message, MessageId, OrderEvent, OrderJob, Variables
from shared.contracts.registry import DELIVERY

SERVICE = DELIVERY

# --- events on delivery.events --------------------------------------------------------------------------


class _DeliveryOfShipment(OrderEvent):
    """What every event about one delivery names: the delivery and the shipment it carries."""

    delivery_id: str
    shipment_id: str


class DeliveryStarted(_DeliveryOfShipment, event_type="fulfilment.delivery.started.v1"):
    courier: str


class DeliveryCompleted(_DeliveryOfShipment, event_type="fulfilment.delivery.completed.v1"):
    """The parcel reached the customer."""


class DeliveryRedispatched(_DeliveryOfShipment, event_type="fulfilment.delivery.redispatched.v1"):
    """The first courier was late; another one took the shipment."""

    courier: str


class DeliveryCancelled(_DeliveryOfShipment, event_type="fulfilment.delivery.cancelled.v1"):
    """The order was cancelled before the parcel arrived: the courier was called back."""


class DeliveryRefused(OrderEvent, event_type="fulfilment.delivery.refused.v1"):
    """No courier would take the shipment; the process returns the goods to stock."""

    shipment_id: str
    reason: str


# --- Zeebe messages ---------------------------------------------------------------------------------


class Delivered(Variables):
    delivered_at: str


# Caught by the shipment process's delivery wait; correlated by shipment id (an order may have two).
# The broker drops it after its TTL, so the process never relies on it alone: see CheckDelivered.
DELIVERY_COMPLETED = Message("delivery-completed", correlation="shipmentId", ttl=timedelta(hours=1),
                             variables=Delivered, message_id=MessageId.OCCURRENCE)

# --- jobs it handles -----------------------------------------------------------------------------------


class StartDeliveryResult(Variables):
    delivery_id: str


class StartDelivery(OrderJob, job_type="delivery.start-delivery", output=StartDeliveryResult):
    """The delivery command: its payload is the shipment, its acknowledgment the delivery id.

    Throws the BPMN error DELIVERY_FAILED when no courier takes the parcel.
    """

    shipment_id: str
    shipment_items: list[Line]


class CheckDeliveredResult(Variables):
    # The variable delivery-completed sets too; null while the parcel is still under way.
    delivered_at: str | None


class CheckDelivered(OrderJob, job_type="delivery.check-delivered", output=CheckDeliveredResult):
    """Before the process (re-)enters its wait for delivery-completed: is the shipment delivered already?

    The message lives only for its TTL; the Delivery service's record of the delivery never expires,
    so a delivery that completed while nobody waited (a person deciding, a job in an incident) is
    still seen.
    """

    shipment_id: str


class Redispatch(JobInput, job_type="delivery.redispatch"):
    """The delivery is late: hand it to the next courier, once per activation of the reminder."""

    shipment_id: str


class CancelDeliveriesResult(Variables):
    delivered_shipment_ids: list[str]


class CancelDeliveries(OrderJob, job_type="delivery.cancel-deliveries", output=CancelDeliveriesResult):
    """Call back every delivery of the order not yet delivered."""


