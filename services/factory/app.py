"""Factory wiring: settings, routes, event subscriptions, the production line."""
from services.factory import api, consumers, db, production
from services.factory.settings import FactorySettings
from shared.runtime.service import Service

settings = FactorySettings()

service = Service(
    settings=settings,
    api=api.router,
    subscriptions=consumers.subscriptions(settings.production_seconds),
    background=[production.make_production_line(settings.production_poll_seconds)],
    retention=[db.forget_finished_production],
)
