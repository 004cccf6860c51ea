"""Order wiring: settings, routes, job workers, event subscriptions."""
from pathlib import Path

from services.order import api, consumers, workers
from services.order.settings import OrderSettings
from shared.service import Service

service = Service(
    settings=OrderSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Order service",
    workers=workers.make_router,
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=consumers.TOPICS,
)
