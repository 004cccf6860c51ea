"""Factory wiring: settings, routes, event subscriptions, the production line."""
from pathlib import Path

from contracts.registry import FACTORY
from runtime.service import Service
from services.factory import api, consumers, production
from services.factory.settings import FactorySettings

settings = FactorySettings()

service = Service(
    settings=settings,
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Factory service",
    subscriptions=consumers.subscriptions(settings.production_seconds),
    consumed_topics=FACTORY.consumed_topics,
    dead_letter_topic=FACTORY.dead_letter_topic,
    background=[production.make_production_line(settings.production_poll_seconds)],
)
