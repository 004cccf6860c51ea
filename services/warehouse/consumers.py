"""Warehouse reactions to factory events (choreography: no process engine involved)."""

from services.warehouse import commands
from services.warehouse.domain import Refused
from shared.contracts.factory import ItemsProduced
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventRejected, Subscription
from shared.runtime.outbox import UnitOfWork


def on_items_produced(uow: UnitOfWork, event: ItemsProduced, envelope: Envelope) -> None:
    try:
        commands.receive_produced_items(uow, event.sku, event.quantity, causation_id=envelope.id)
    except Refused as exc:  # an unknown SKU, an impossible quantity: no retry can fix it
        raise EventRejected(str(exc)) from exc


SUBSCRIPTIONS = [Subscription(ItemsProduced, on_items_produced)]
