"""Analytics wiring: settings, routes, event subscriptions."""
from pathlib import Path

from contracts.registry import ANALYTICS
from runtime.service import Service
from services.analytics import api, consumers, figures
from services.analytics.settings import AnalyticsSettings

service = Service(
    settings=AnalyticsSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Analytics service",
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=ANALYTICS.consumed_topics,
    dead_letter_topic=ANALYTICS.dead_letter_topic,
    metrics=[figures.metrics],
    web=api.WEB,
)
