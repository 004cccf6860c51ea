"""Failures no retry can fix, declared once per service and translated at each edge: a job's incident, an event's
dead letter."""
from __future__ import annotations

from collections.abc import Mapping

# A service's exception types whose input can never succeed, each with how its reason reads (`{}`: the error).
Refusals = Mapping[type[Exception], str]


def refusal(refusals: Refusals, error: Exception) -> str | None:
    """Why `error` refuses its input for good, worded as its service declares it; None when it is no refusal."""
    for kind, reason in refusals.items():
        if isinstance(error, kind):
            return reason.format(error)
    return None
