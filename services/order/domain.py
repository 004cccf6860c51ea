"""Orders and their lifecycle, in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    RESERVED = "RESERVED"
    PACKED = "PACKED"
    IN_DELIVERY = "IN_DELIVERY"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"


# Events from different topics can arrive in any order; status only ever moves forward.
_PROGRESS = list(OrderStatus)
FINAL_STATUSES = frozenset({OrderStatus.COMPLETED})


class InvalidOrder(ValueError):
    """An order request that breaks a business rule the schema cannot express."""


class IdempotencyConflict(ValueError):
    """An Idempotency-Key reused for a different request."""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


def normalise_lines(lines: list[OrderLine]) -> list[OrderLine]:
    """One line per SKU, quantities summed, in first-seen order."""
    if not lines:
        raise InvalidOrder("an order needs at least one item")
    totals: dict[str, int] = {}
    for line in lines:
        sku = line.sku.strip()
        if not sku:
            raise InvalidOrder("every item needs a sku")
        if line.quantity <= 0:
            raise InvalidOrder(f"quantity of {sku} must be positive, got {line.quantity}")
        totals[sku] = totals.get(sku, 0) + line.quantity
    return [OrderLine(sku, quantity) for sku, quantity in totals.items()]


def advance(current: OrderStatus, reported: OrderStatus) -> OrderStatus:
    """The status after an event reports `reported`: later stages win, final statuses stay."""
    if current in FINAL_STATUSES:
        return current
    return max(current, reported, key=_PROGRESS.index)


def request_fingerprint(request: dict) -> str:
    """Stable hash of a request body, to tell a retry from a different request with the same key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_idempotent_retry(stored_fingerprint: str, fingerprint: str) -> None:
    if stored_fingerprint != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different order request")
