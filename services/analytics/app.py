"""Analytics wiring: settings, routes, event subscriptions."""
from services.analytics import api, consumers, db
from services.analytics.settings import AnalyticsSettings
from shared.runtime.service import Service

service = Service(
    settings=AnalyticsSettings(),
    api=api.router,
    subscriptions=consumers.SUBSCRIPTIONS,
    retention=[db.retire_old_facts],
    web=api.WEB,
)
