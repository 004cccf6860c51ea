"""Events the Factory publishes on `factory.events`."""
from __future__ import annotations

from typing import ClassVar

from pydantic import PositiveInt

from shared.envelope import DomainEvent


class ItemsProduced(DomainEvent):
    event_type: ClassVar[str] = "fulfilment.factory.items-produced.v1"
    request_id: str
    sku: str
    quantity: PositiveInt
