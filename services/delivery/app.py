"""Delivery wiring: settings, routes, job workers, the simulated courier."""
from functools import partial
from pathlib import Path

from services.delivery import api, courier, workers
from services.delivery.settings import DeliverySettings
from shared.service import Service

settings = DeliverySettings()

service = Service(
    settings=settings,
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Delivery service",
    workers=partial(workers.make_router, settings=settings),
    background=[courier.make_courier(settings.courier_poll_seconds)],
)
