"""Order wiring: settings, routes, job handlers, event subscriptions."""
from datetime import timedelta
from pathlib import Path

from contracts.registry import ORDER
from runtime.service import Service, polling_loop
from services.order import api, consumers, reconciler, workers
from services.order.process_monitor import ProcessMonitor
from services.order.settings import OrderSettings

settings = OrderSettings()
stuck_after = timedelta(seconds=settings.stuck_after_seconds)
engine = ProcessMonitor(settings.monitor_url, settings.own_token())

service = Service(
    settings=settings,
    migrations=Path(__file__).with_name("migrations"),
    api=api.router,
    title="Order service",
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
    consumed_topics=ORDER.consumed_topics,
    dead_letter_topic=ORDER.dead_letter_topic,
    background=[polling_loop("reconciler",
                             lambda session: reconciler.reconcile(session, stuck_after, engine.instances_of),
                             settings.reconcile_every_seconds)],
)
