"""Order wiring: settings, routes, job handlers, event subscriptions, the reconciler."""
from datetime import timedelta

from sqlalchemy.engine import Connection

from runtime.service import Service, polling_loop
from services.order import api, consumers, reconciler, workers
from services.order.process_monitor import ProcessMonitor
from services.order.settings import OrderSettings

settings = OrderSettings()
stuck_after = timedelta(seconds=settings.stuck_after_seconds)
engine = ProcessMonitor(settings.monitor_url, settings.own_token())


def reconcile(session: Connection) -> int:
    return reconciler.reconcile(session, stuck_after, engine.instances_of)


service = Service(
    settings=settings,
    api=api.router,
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
    background=[polling_loop("reconciler", reconcile, settings.reconcile_every_seconds)],
)
