"""Order wiring: settings, routes, job handlers, event subscriptions."""
from pathlib import Path

from contracts.registry import ORDER
from runtime.service import Service
from services.order import api, consumers, workers
from services.order.settings import OrderSettings

service = Service(
    settings=OrderSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Order service",
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=ORDER.consumed_topics,
    dead_letter_topic=ORDER.dead_letter_topic,
)
