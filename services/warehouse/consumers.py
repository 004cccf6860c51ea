"""Warehouse reactions to factory events (choreography: no process engine involved)."""
from sqlalchemy.orm import Session

from services.factory.events import ItemsProduced
from services.warehouse import commands
from shared.envelope import Envelope
from shared.inbox import Subscription
from shared.topics import events_topic

TOPICS = [events_topic("factory")]


def on_items_produced(session: Session, event: ItemsProduced, _: Envelope) -> None:
    commands.receive_produced_items(session, event.sku, event.quantity)


SUBSCRIPTIONS = [Subscription(ItemsProduced, on_items_produced)]
