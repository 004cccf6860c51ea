"""Process monitor wiring: settings, routes, the projection of the engine's records, the page's assets."""
from datetime import timedelta
from pathlib import Path

from contracts.registry import MONITOR
from runtime.service import Service, polling_loop
from services.monitor import api, consumers, repairs
from services.monitor.engine import Engine
from services.monitor.settings import MonitorSettings

settings = MonitorSettings()
engine = Engine(settings.camunda_rest_url)
stuck_after = timedelta(seconds=settings.restart_stuck_jobs_after_seconds)

service = Service(
    settings=settings,
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Process monitor",
    projection=consumers.project,
    consumed_topics=MONITOR.consumed_topics,
    dead_letter_topic=MONITOR.dead_letter_topic,
    web=api.WEB,
    background=[polling_loop("stuck-job repair",
                             lambda session: repairs.restart_stuck_jobs(session, engine, stuck_after),
                             settings.repair_every_seconds)],
)
