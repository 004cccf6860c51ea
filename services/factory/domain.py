"""Production orders in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class ProductionStatus(StrEnum):
    """REQUESTED is the only status that changes: PRODUCED and WITHDRAWN are final."""

    REQUESTED = "REQUESTED"
    PRODUCED = "PRODUCED"
    WITHDRAWN = "WITHDRAWN"


UNSTARTED = ProductionStatus.REQUESTED


class NotChangeable(ValueError):
    """The production order cannot make this change: it is produced or withdrawn, or not due yet."""


def line_runs(setting: bool | None) -> bool:
    """Production only runs while the line runs; a line no operator has stopped runs."""
    return setting is not False


@dataclass(frozen=True)
class ProductionOrder:
    request_id: str
    order_id: str
    sku: str
    quantity: int
    due_at: datetime
    status: ProductionStatus = ProductionStatus.REQUESTED
    expedited: bool = False
    produced_at: datetime | None = None
    # The replenishment-requested event this order came from: the causation of its items-produced.
    requested_by_event: str | None = None

    @classmethod
    def requested(cls, *, request_id: str, order_id: str, sku: str, quantity: int, now: datetime,
                  production_seconds: float, requested_by_event: str | None = None) -> ProductionOrder:
        """Producing takes `production_seconds`, counted from when the request is taken."""
        return cls(request_id=request_id, order_id=order_id, sku=sku, quantity=quantity,
                   due_at=now + timedelta(seconds=production_seconds), requested_by_event=requested_by_event)

    @property
    def unstarted(self) -> bool:
        return self.status == UNSTARTED

    def is_due(self, now: datetime) -> bool:
        return self.unstarted and self.due_at <= now

    def produced(self, now: datetime) -> ProductionOrder:
        if not self.is_due(now):
            raise NotChangeable(f"{self.request_id} is {self.status}, due at {self.due_at}: not producible now")
        return replace(self, status=ProductionStatus.PRODUCED, produced_at=now)

    def can_expedite(self) -> bool:
        return self.unstarted

    def expedite(self, now: datetime) -> ProductionOrder:
        """Expediting makes the order due at once; the line produces it on its next round."""
        self._check_unstarted()
        return replace(self, expedited=True, due_at=now)

    def can_withdraw(self) -> bool:
        """Only production that has not happened can be called off; produced goods stay produced."""
        return self.unstarted

    def withdraw(self) -> ProductionOrder:
        self._check_unstarted()
        return replace(self, status=ProductionStatus.WITHDRAWN)

    def _check_unstarted(self) -> None:
        if not self.unstarted:
            raise NotChangeable(f"{self.request_id} is {self.status}")
