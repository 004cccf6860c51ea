"""Factory wiring: settings, routes, event subscriptions."""
from pathlib import Path

from services.factory import api, consumers
from services.factory.settings import FactorySettings
from shared.service import Service

service = Service(
    settings=FactorySettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Factory service",
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=consumers.TOPICS,
)
