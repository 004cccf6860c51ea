"""Deliveries in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

COURIERS = ("courier-north", "courier-south")


class DeliveryStatus(StrEnum):
    DISPATCHED = "DISPATCHED"
    DELIVERED = "DELIVERED"


@dataclass(frozen=True)
class DeliveryPlan:
    courier: str
    due_at: datetime


def plan_delivery(shipment_id: str, now: datetime, delay_seconds: float) -> DeliveryPlan:
    """The same shipment always goes to the same courier, so a repeated command changes nothing."""
    courier = COURIERS[sum(shipment_id.encode()) % len(COURIERS)]
    return DeliveryPlan(courier=courier, due_at=now + timedelta(seconds=delay_seconds))
