"""Delivery wiring: settings, routes, job handlers, the simulated courier."""
from services.delivery import api, courier, db, workers
from services.delivery.settings import DeliverySettings
from shared.runtime.service import Service

settings = DeliverySettings()

service = Service(
    settings=settings,
    api=api.router,
    jobs=workers.handlers,
    job_dependencies={"order_api": workers.order_api_client(settings)},
    background=[courier.make_courier(settings.courier_poll_seconds)],
    retention=[db.forget_closed_orders],
)
