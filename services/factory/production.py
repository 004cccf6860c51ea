"""The simulated production line: finishes production orders once they are due."""
from __future__ import annotations

from runtime.service import polling_loop
from services.factory import commands


def make_production_line(poll_seconds: float):
    return polling_loop("production line", commands.produce_due, poll_seconds)
