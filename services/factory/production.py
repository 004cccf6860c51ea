"""The simulated production line: finishes production orders once they are due."""
from __future__ import annotations

from services.factory import commands
from shared.contracts.factory import SERVICE
from shared.runtime.outbox import loop_step
from shared.runtime.service import polling_loop


def make_production_line(poll_seconds: float):
    return polling_loop("production line", loop_step(SERVICE, commands.produce_due), poll_seconds)
