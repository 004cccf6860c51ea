"""Process monitor settings (FULFIL_MONITOR_* environment variables)."""
from pydantic import Field

from shared.contracts.registry import MONITOR, ORDER
from shared.runtime.settings import ServiceSettings


class MonitorSettings(ServiceSettings, service=MONITOR):
    # Retrying an incident, cancelling an instance and completing a user task are the engine's REST API's.
    camunda_rest_url: str = "http://localhost:8080"
    # Where people read an order (its page links there).
    order_api_url: str = f"http://127.0.0.1:{ORDER.port}"
    # Zipkin's base address, for the link from an instance to its order's trace; empty: no link.
    zipkin_url: str = ""
    # An active instance the engine wrote nothing about for this long has made no progress (`/stalled-instances`).
    stalled_after_seconds: float = 300
    # A job element with no record from the engine for this long and no incident is started again
    # (services.monitor.repairs): longer than a job's timeout plus the longest wait between its retries.
    restart_stuck_jobs_after_seconds: float = 600
    repair_every_seconds: float = 30
    # How often the batch operations loop looks for pending items when it found none (it goes on at once otherwise).
    operations_every_seconds: float = 2
    # An ended instance's rows stay this long: the engine's detail is for operating now; the order keeps its
    # history in the Order service.
    history_retention_days: float = Field(default=30.0, gt=0)
