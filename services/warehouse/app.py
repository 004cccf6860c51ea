"""Warehouse wiring: settings, routes, job handlers, event subscriptions."""
from pathlib import Path

from contracts.registry import WAREHOUSE
from runtime.service import Service
from services.warehouse import api, consumers, workers
from services.warehouse.settings import WarehouseSettings

service = Service(
    settings=WarehouseSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Warehouse service",
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=WAREHOUSE.consumed_topics,
    dead_letter_topic=WAREHOUSE.dead_letter_topic,
)
