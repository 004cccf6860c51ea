"""A job handler's report for the tests of job bounds: how many of its jobs ran at once, and which.

No postponed annotations here: a handler's input annotation must be its class itself, and probed_handlers' is local.
"""

import threading

from shared.contracts.base import JobInput
from shared.runtime.zeebe import JobHandlers


class Probe:
    """The handler under test reports here: how many of its jobs run at once, and for which orders it ran."""

    def __init__(self, hold_seconds: float) -> None:
        self.hold_seconds = hold_seconds
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.ran: list[str] = []

    def run(self, order_id: str) -> None:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.ran.append(order_id)
        self.release.wait(self.hold_seconds)
        with self.lock:
            self.running -= 1


def probed_handlers(job_type: str) -> JobHandlers:
    """One job type whose handler reports to the `probe` it is given and takes the probe's time."""
    class SlowStep(JobInput, job_type=job_type):
        order_id: str

    handlers = JobHandlers()

    @handlers.task(job_type)
    def slow_step(job: SlowStep, probe: Probe) -> None:
        probe.run(job.order_id)

    return handlers
