"""Process monitor wiring: settings, routes, the projection of the engine's records, the page's assets."""
from datetime import timedelta

from sqlalchemy.engine import Connection

from runtime.service import Service, polling_loop
from services.monitor import api, consumers, repairs
from services.monitor.engine import Engine
from services.monitor.settings import MonitorSettings

settings = MonitorSettings()
engine = Engine(settings.camunda_rest_url)
stuck_after = timedelta(seconds=settings.restart_stuck_jobs_after_seconds)


def restart_stuck_jobs(session: Connection) -> int:
    return repairs.restart_stuck_jobs(session, engine, stuck_after)


service = Service(
    settings=settings,
    api=api.router,
    projection=consumers.project,
    web=api.WEB,
    background=[polling_loop("stuck-job repair", restart_stuck_jobs, settings.repair_every_seconds)],
)
