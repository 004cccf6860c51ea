"""Fulfilment figures computed from plain facts: no HTTP, Kafka or SQL here."""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from itertools import repeat

# Widths a time axis may cut into, in minutes: each one reads as a round figure on a clock.
BUCKET_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
# Widths a histogram of durations may use, in seconds: from a tenth of a second to a day, so that a bin reads as
# round seconds, minutes or hours whichever unit the page shows it in.
DURATION_BIN_SECONDS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                        43200, 86400)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The longest a chart reaches back (`GET /figures?minutes=`): the facts must outlast it.
LONGEST_WINDOW = timedelta(days=7)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _smallest_fitting(widths: Sequence[float], span: float, most: int) -> float:
    """The narrowest width that cuts `span` into at most `most` parts (the widest if none does)."""
    return next((w for w in widths if span / w <= most), widths[-1])


@dataclass(frozen=True)
class Bin:
    low: float   # inclusive
    high: float  # exclusive
    count: int


def duration_histogram(seconds: list[float], most_bins: int = 20) -> list[Bin]:
    """Equal bins of a round width from a multiple of it at or below the shortest duration; every bin up to the
    longest is listed, empty ones too, so the bars stand where their durations are."""
    if not seconds:
        return []
    low, high = min(seconds), max(seconds)
    # Durations close together share a bin: the bins span at least a quarter of the longest, so four backorders a
    # minute old make one bin of a second, not four of a tenth. One bin more than the span needs may be needed,
    # since the first starts below the shortest duration.
    width = _smallest_fitting(DURATION_BIN_SECONDS, max(high - low, high / 4), most_bins - 1)
    def index(value: float) -> int:
        return math.floor(round(value / width, 9))  # 0.3 / 0.1 is 2.9999999999999996, and belongs in bin 3

    first = index(low)
    counts = [0] * (index(high) - first + 1)
    for value in seconds:
        counts[index(value) - first] += 1
    # Edges as multiples of the width, rounded, so 0.1 * 3 reads 0.3 and not 0.30000000000000004.
    return [Bin(round((first + i) * width, 6), round((first + i + 1) * width, 6), n) for i, n in enumerate(counts)]


@dataclass(frozen=True)
class TimeAxis:
    """Consecutive buckets of one round width, the last holding `now`: what a chart of the recent past plots."""

    start: datetime
    width: timedelta
    size: int
    now: datetime

    @classmethod
    def ending_now(cls, now: datetime, window: timedelta, most_buckets: int = 60) -> TimeAxis:
        width = timedelta(minutes=_smallest_fitting(BUCKET_MINUTES, window / timedelta(minutes=1), most_buckets))
        # Buckets begin at multiples of their width (UTC), so a 5-minute bucket spans 12:05-12:10, not 12:03-12:08.
        current = _EPOCH + (now - _EPOCH) // width * width
        size = math.ceil(window / width)
        return cls(start=current - (size - 1) * width, width=width, size=size, now=now)

    def starts(self) -> list[datetime]:
        return [self.start + i * self.width for i in range(self.size)]

    def ends(self) -> list[datetime]:
        """When each bucket ends; the current one ends now, as far as anyone knows."""
        return [min(start + self.width, self.now) for start in self.starts()]

    def _index(self, at: datetime) -> int | None:
        # An event stamped a moment after `now` by another machine's clock counts in the current bucket.
        index = (at - self.start) // self.width
        return None if index < 0 else min(index, self.size - 1)

    def counts(self, times: Iterable[datetime], weights: Iterable[int] | None = None) -> list[int]:
        """How many happened (or how much, with weights) in each bucket; what happened outside the axis is left out."""
        totals = [0] * self.size
        for at, weight in zip(times, repeat(1) if weights is None else weights, strict=False):
            index = self._index(at)
            if index is not None:
                totals[index] += weight
        return totals

    def open_at_ends(self, periods: Iterable[tuple[datetime, datetime | None]]) -> list[int]:
        """How many periods (begun, ended or None while open) are open at the end of each bucket."""
        begun, ended = [], []
        for begin, end in periods:
            begun.append(begin)
            if end is not None:
                ended.append(end)
        begun.sort()
        ended.sort()
        return [bisect.bisect_right(begun, at) - bisect.bisect_right(ended, at) for at in self.ends()]

    def shares(self, outcomes: Iterable[tuple[datetime, bool]]) -> list[float | None]:
        """Per bucket, the share of the outcomes that were true; None for a bucket without any."""
        outcomes = list(outcomes)
        wins = self.counts(at for at, won in outcomes if won)
        tries = self.counts(at for at, _ in outcomes)
        return [share(w, t) for w, t in zip(wins, tries, strict=True)]


@dataclass(frozen=True)
class Totals:
    """What the all-time figures count. The retention adds the facts it removes to stored totals, so the figures
    stay what they were; only the lead time covers just the orders still kept."""

    placed: int = 0
    completed: int = 0
    cancelled: int = 0
    delivery_failed: int = 0
    rejected: int = 0
    # Orders whose reservation outcome is known, and of those the ones fully reserved at once.
    reserved: int = 0
    fully_reserved: int = 0
    produced_units: int = 0
    deadline_breaches: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def totals_of(orders: Sequence, production: Sequence, breaches: Sequence) -> Totals:
    """The totals of facts: order rows (placed_at, first_pass_full, completed_at, cancelled_at, delivery_failed_at,
    rejected_at),
    production rows (quantity) and deadline breaches."""
    reserved = [o for o in orders if o.first_pass_full is not None]
    return Totals(
        placed=sum(1 for o in orders if o.placed_at), completed=sum(1 for o in orders if o.completed_at),
        cancelled=sum(1 for o in orders if o.cancelled_at),
        delivery_failed=sum(1 for o in orders if o.delivery_failed_at),
        rejected=sum(1 for o in orders if o.rejected_at),
        reserved=len(reserved), fully_reserved=sum(1 for o in reserved if o.first_pass_full),
        produced_units=sum(p.quantity for p in production), deadline_breaches=len(breaches))
