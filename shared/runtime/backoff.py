"""Exponential backoff: job retries, and background loops that wait out an outage without flooding the log."""
from __future__ import annotations

import logging
import sys


def describe(error: BaseException, limit: int = 300) -> str:
    """`Type: first line`: SQLAlchemy and gRPC append statements, parameters and debug detail after it."""
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:limit]


def exponential(attempt: int, first: float, maximum: float) -> float:
    """Delay before retrying after the `attempt`-th failure in a row (1-based): first, 2x, 4x, ... capped."""
    return min(first * 2 ** (max(attempt, 1) - 1), maximum)


class FailureBackoff:
    """Counts a loop's failed rounds in a row: the first is logged with its traceback, the rest in one line.

    A database or broker outage otherwise writes a traceback every poll interval until it ends.
    """

    def __init__(self, what: str, log: logging.Logger, first_seconds: float = 0.2, max_seconds: float = 5.0) -> None:
        self.what = what
        self.log = log
        self.first_seconds = first_seconds
        self.max_seconds = max_seconds
        self.failures = 0

    def failed(self, where: str = "") -> float:
        """Call from an `except` block; returns how long to wait before the next round."""
        self.failures += 1
        delay = exponential(self.failures, self.first_seconds, self.max_seconds)
        if self.failures == 1:
            self.log.exception("%s failed%s; retrying in %.1fs", self.what, where and f" on {where}", delay)
        else:
            self.log.warning("%s failed again%s (%d in a row); retrying in %.1fs: %s",
                             self.what, where and f" on {where}", self.failures, delay, describe(sys.exc_info()[1]))
        return delay

    def succeeded(self) -> None:
        if self.failures:
            self.log.info("%s works again after %d failed rounds", self.what, self.failures)
            self.failures = 0
