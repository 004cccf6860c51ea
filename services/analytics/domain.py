"""Fulfilment figures computed from plain facts: no HTTP, Kafka or SQL here."""
from __future__ import annotations

import math
from collections import Counter
from datetime import datetime


def per_minute(times: list[datetime]) -> dict[str, int]:
    """How many happened in each minute (UTC, ISO minute), oldest first."""
    counts = Counter(t.strftime("%Y-%m-%dT%H:%MZ") for t in times)
    return dict(sorted(counts.items()))


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
