"""Deliveries in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

COURIERS = ("courier-north", "courier-south")


class DeliveryStatus(StrEnum):
    DISPATCHED = "DISPATCHED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


# The simulated couriers refuse this postal code, so a test or a demo can make a delivery fail.
UNDELIVERABLE_POSTAL_CODE = "00000"


@dataclass(frozen=True)
class DeliveryPlan:
    courier: str
    due_at: datetime


def plan_delivery(shipment_id: str, now: datetime, delay_seconds: float) -> DeliveryPlan:
    """The same shipment always goes to the same courier, so a repeated command changes nothing."""
    courier = COURIERS[sum(shipment_id.encode()) % len(COURIERS)]
    return DeliveryPlan(courier=courier, due_at=now + timedelta(seconds=delay_seconds))


def refusal_reason(address: dict) -> str | None:
    """Why no courier will take a parcel to `address`, or None when one will."""
    if address.get("postal_code") == UNDELIVERABLE_POSTAL_CODE:
        return f"address undeliverable: no courier serves postal code {UNDELIVERABLE_POSTAL_CODE}"
    return None


def other_courier(current: str) -> str:
    """Re-dispatching hands the parcel to the next courier in the roster."""
    return COURIERS[(COURIERS.index(current) + 1) % len(COURIERS)]
