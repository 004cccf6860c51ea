"""Warehouse wiring: settings, routes, job workers, event subscriptions."""
from pathlib import Path

from services.warehouse import api, consumers, workers
from services.warehouse.settings import WarehouseSettings
from shared.service import Service

service = Service(
    settings=WarehouseSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Warehouse service",
    workers=workers.make_router,
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=consumers.TOPICS,
)
