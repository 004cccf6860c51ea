"""Warehouse wiring: settings, routes, job workers."""
from pathlib import Path

from services.warehouse import api, workers
from services.warehouse.settings import WarehouseSettings
from shared.service import Service

service = Service(
    settings=WarehouseSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Warehouse service",
    workers=workers.make_router,
)
