"""Factory reactions to warehouse events (choreography: no process engine involved)."""
from __future__ import annotations

from services.factory import commands
from shared.contracts.warehouse import ReplenishmentExpedited, ReplenishmentRequested, ReplenishmentWithdrawn
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import Subscription
from shared.runtime.outbox import UnitOfWork


def subscriptions(production_seconds: float) -> list[Subscription]:
    def on_replenishment_requested(uow: UnitOfWork, event: ReplenishmentRequested, envelope: Envelope) -> None:
        commands.take_request(uow, request_id=event.request_id, order_id=event.order_id, sku=event.sku,
                              quantity=event.quantity, production_seconds=production_seconds,
                              requested_by_event=envelope.id)

    def on_replenishment_expedited(uow: UnitOfWork, event: ReplenishmentExpedited, _: Envelope) -> None:
        commands.expedite(uow, event.request_id)

    def on_replenishment_withdrawn(uow: UnitOfWork, event: ReplenishmentWithdrawn, _: Envelope) -> None:
        commands.withdraw(uow, event.request_id)

    return [
        Subscription(ReplenishmentRequested, on_replenishment_requested),
        Subscription(ReplenishmentExpedited, on_replenishment_expedited),
        Subscription(ReplenishmentWithdrawn, on_replenishment_withdrawn),
    ]
