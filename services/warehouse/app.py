"""Warehouse wiring: settings, routes, job handlers, event subscriptions."""
from services.warehouse import api, consumers, db, workers
from services.warehouse.settings import WarehouseSettings
from shared.runtime.service import Service

service = Service(
    settings=WarehouseSettings(),
    api=api.router,
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
    retention=[db.forget_closed_orders],
)
