"""Factory reactions to warehouse events (choreography: no process engine involved)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.factory import commands
from services.warehouse.events import ReplenishmentRequested
from shared.envelope import Envelope
from shared.inbox import Subscription
from shared.topics import events_topic

TOPICS = [events_topic("warehouse")]


def subscriptions(production_seconds: float) -> list[Subscription]:
    def on_replenishment_requested(session: Session, event: ReplenishmentRequested, _: Envelope) -> None:
        commands.take_request(session, request_id=event.request_id, order_id=event.order_id, sku=event.sku,
                              quantity=event.quantity, production_seconds=production_seconds)

    return [Subscription(ReplenishmentRequested, on_replenishment_requested)]
