"""Analytics wiring: settings, routes, event subscriptions."""
from pathlib import Path

from services.analytics import api, consumers
from services.analytics.settings import AnalyticsSettings
from shared.service import Service

service = Service(
    settings=AnalyticsSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Analytics service",
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=consumers.TOPICS,
)
