"""Warehouse reactions to factory events (choreography: no process engine involved)."""
from sqlalchemy.orm import Session

from contracts.factory import ItemsProduced
from runtime.envelope import Envelope
from runtime.inbox import Subscription
from services.warehouse import commands


def on_items_produced(session: Session, event: ItemsProduced, envelope: Envelope) -> None:
    commands.receive_produced_items(session, event.sku, event.quantity, causation_id=envelope.id)


SUBSCRIPTIONS = [Subscription(ItemsProduced, on_items_produced)]
