"""Delivery wiring: settings, routes, job handlers, the simulated courier."""
from runtime.service import Service
from services.delivery import api, courier, db, workers
from services.delivery.settings import DeliverySettings

settings = DeliverySettings()

service = Service(
    settings=settings,
    api=api.router,
    jobs=workers.handlers,
    job_dependencies={"order_api": workers.order_api_client(settings)},
    background=[courier.make_courier(settings.courier_poll_seconds)],
    retention=[db.forget_closed_orders],
)
