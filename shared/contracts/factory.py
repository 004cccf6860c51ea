"""What the Factory promises: its events on `factory.events` (it takes no jobs; it follows the Warehouse's events)."""
from __future__ import annotations

from pydantic import PositiveInt

from shared.contracts.base import OrderEvent
from shared.contracts.registry import FACTORY

SERVICE = FACTORY


class ItemsProduced(OrderEvent, event_type="fulfilment.factory.items-produced.v1"):
    request_id: str
    sku: str
    quantity: PositiveInt
