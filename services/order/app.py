"""Order wiring: settings, routes, job handlers, event subscriptions, the reconciler."""
from datetime import timedelta
from functools import partial

from services.order import api, batches, consumers, db, reconciler, workers
from services.order.process_monitor import ProcessMonitor
from services.order.settings import OrderSettings
from shared.contracts.order import SERVICE
from shared.runtime.outbox import loop_step
from shared.runtime.service import Service, polling_loop

settings = OrderSettings()
stuck_after = timedelta(seconds=settings.stuck_after_seconds)
reconcile = partial(reconciler.reconcile, stuck_after=stuck_after,
                    engine_view=ProcessMonitor(settings.monitor_url, settings.own_token()).instances_of)

service = Service(
    settings=settings,
    api=api.router,
    jobs=workers.handlers,
    subscriptions=consumers.SUBSCRIPTIONS,
    background=[polling_loop("reconciler", loop_step(SERVICE, reconcile), settings.reconcile_every_seconds),
                polling_loop("batch operations", batches.work, settings.operations_every_seconds)],
    retention=[db.forget_steps_of_final_orders, batches.operations.forget_finished],
    metrics=[partial(reconciler.stall_metrics, stuck_after=stuck_after)],
)
