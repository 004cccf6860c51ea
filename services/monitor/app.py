"""Process monitor wiring: settings, routes, the projection of the engine's records, the page's assets."""
from pathlib import Path

from contracts.registry import MONITOR
from runtime.service import Service
from services.monitor import api, consumers
from services.monitor.settings import MonitorSettings

service = Service(
    settings=MonitorSettings(),
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Process monitor",
    projection=consumers.project,
    consumed_topics=MONITOR.consumed_topics,
    dead_letter_topic=MONITOR.dead_letter_topic,
    web=api.WEB,
)
