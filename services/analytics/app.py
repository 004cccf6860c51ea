"""Analytics wiring: settings, routes, event subscriptions."""
from runtime.service import Service
from services.analytics import api, consumers, db, figures
from services.analytics.settings import AnalyticsSettings

service = Service(
    settings=AnalyticsSettings(),
    api=api.router,
    subscriptions=consumers.SUBSCRIPTIONS,
    metrics=[figures.metrics],
    retention=[db.retire_old_facts],
    web=api.WEB,
)
