"""Warehouse reactions to factory events (choreography: no process engine involved)."""

from services.warehouse import commands
from shared.contracts.factory import ItemsProduced
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import Subscription, refusing
from shared.runtime.outbox import UnitOfWork


def on_items_produced(uow: UnitOfWork, event: ItemsProduced, envelope: Envelope) -> None:
    commands.receive_produced_items(uow, event.sku, event.quantity, causation_id=envelope.id)


SUBSCRIPTIONS = refusing(commands.REFUSALS, [Subscription(ItemsProduced, on_items_produced)])
