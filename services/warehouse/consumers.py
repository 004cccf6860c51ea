"""Warehouse reactions to factory events (choreography: no process engine involved)."""
from sqlalchemy.engine import Connection

from services.warehouse import commands
from services.warehouse.domain import Refused
from shared.contracts.factory import ItemsProduced
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventRejected, Subscription


def on_items_produced(session: Connection, event: ItemsProduced, envelope: Envelope) -> None:
    try:
        commands.receive_produced_items(session, event.sku, event.quantity, causation_id=envelope.id)
    except Refused as exc:  # an unknown SKU, an impossible quantity: no retry can fix it
        raise EventRejected(str(exc)) from exc


SUBSCRIPTIONS = [Subscription(ItemsProduced, on_items_produced)]
