"""Warehouse wiring: settings, routes, job handlers, event subscriptions."""
from runtime.service import Service
from services.warehouse import api, consumers, workers
from services.warehouse.settings import WarehouseSettings

service = Service(
    settings=WarehouseSettings(),
    api=api.router,
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
)
