from datetime import datetime, timezone

from services.analytics.domain import per_minute, percentile, share


def at(minute: int, second: int = 0) -> datetime:
    return datetime(2026, 1, 1, 12, minute, second, tzinfo=timezone.utc)


def test_events_are_counted_per_minute_in_time_order():
    assert per_minute([at(5, 30), at(4), at(5, 1)]) == {"2026-01-01T12:04Z": 1, "2026-01-01T12:05Z": 2}


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_a_share_of_nothing_is_unknown_not_zero():
    assert share(0, 0) is None
    assert share(1, 4) == 0.25
