"""Process monitor wiring: settings, routes, the projection of the engine's records, the page's assets."""
from datetime import timedelta
from functools import partial

from services.monitor import api, audit, batches, consumers, db, repairs
from services.monitor.engine import Engine
from services.monitor.settings import MonitorSettings
from shared.runtime.service import Service, polling_loop

settings = MonitorSettings()
restart_stuck_jobs = partial(repairs.restart_stuck_jobs, engine=Engine(settings.camunda_rest_url),
                             stuck_after=timedelta(seconds=settings.restart_stuck_jobs_after_seconds))

service = Service(
    settings=settings,
    api=api.router,
    projection=consumers.project,
    web=api.WEB,
    background=[polling_loop("stuck-job repair", restart_stuck_jobs, settings.repair_every_seconds),
                polling_loop("batch operations", partial(batches.work, engine=Engine(settings.camunda_rest_url)),
                             settings.operations_every_seconds)],
    retention=[db.forget_ended_instances, audit.forget_old, batches.operations.forget_finished],
    metrics=[repairs.incident_metrics],
)
