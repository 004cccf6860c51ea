from datetime import datetime, timedelta, timezone

from services.analytics.domain import Bin, TimeAxis, duration_histogram, percentile, share


def at(minute: int, second: int = 0, hour: int = 12) -> datetime:
    return datetime(2026, 1, 1, hour, minute, second, tzinfo=timezone.utc)


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_a_share_of_nothing_is_unknown_not_zero():
    assert share(0, 0) is None
    assert share(1, 4) == 0.25


def test_an_hour_is_sixty_one_minute_buckets_the_last_holding_now():
    axis = TimeAxis.ending_now(at(30, 20), timedelta(hours=1))
    assert (axis.width, axis.size) == (timedelta(minutes=1), 60)
    assert axis.starts()[-1] == at(30) and axis.starts()[0] == at(31, hour=11)
    assert axis.ends()[-1] == at(30, 20), "the current bucket ends now"


def test_longer_windows_take_wider_round_buckets_aligned_to_the_clock():
    six_hours = TimeAxis.ending_now(at(37), timedelta(hours=6))
    assert (six_hours.width, six_hours.size) == (timedelta(minutes=10), 36)
    assert six_hours.starts()[-1] == at(30)
    week = TimeAxis.ending_now(at(37), timedelta(days=7))
    assert (week.width, week.size) == (timedelta(hours=3), 56)
    assert week.starts()[-1] == at(0)


def test_events_are_counted_in_their_bucket_and_those_before_the_axis_are_left_out():
    axis = TimeAxis.ending_now(at(5, 30), timedelta(minutes=5))
    assert axis.starts() == [at(1), at(2), at(3), at(4), at(5)]
    times = [at(0, 59), at(1), at(3, 10), at(3, 50), at(5, 29), at(5, 31)]
    assert axis.counts(times) == [1, 0, 2, 0, 2], "a moment past now (another clock) counts as now"
    assert axis.counts(times, weights=[10, 1, 2, 3, 4, 5]) == [1, 0, 5, 0, 9]


def test_periods_open_at_each_bucket_end_include_those_begun_before_the_axis():
    axis = TimeAxis.ending_now(at(3, 30), timedelta(minutes=3))
    periods = [(at(0), None), (at(0), at(1, 30)), (at(1, 10), at(2, 0)), (at(2, 30), None), (at(3, 10), at(3, 20))]
    # Bucket ends: 12:02:00, 12:03:00, and now (12:03:30); a period ending exactly at an end is closed there.
    assert axis.open_at_ends(periods) == [1, 2, 2]


def test_shares_per_bucket_are_unknown_where_nothing_happened():
    axis = TimeAxis.ending_now(at(2, 30), timedelta(minutes=3))
    outcomes = [(at(0, 5), True), (at(0, 6), False), (at(0, 7), True), (at(0, 8), True), (at(2, 1), False)]
    assert axis.shares(outcomes) == [0.75, None, 0.0]


def test_a_duration_histogram_has_round_bins_from_below_the_shortest_to_the_longest():
    bins = duration_histogram([2.2, 2.9, 4.1, 3.0, 13.5])
    assert bins == [Bin(2.0, 3.0, 2), Bin(3.0, 4.0, 1), Bin(4.0, 5.0, 1)] + [
        Bin(float(s), float(s + 1), 0) for s in range(5, 13)] + [Bin(13.0, 14.0, 1)]


def test_a_histogram_of_long_durations_uses_whole_minutes_and_never_more_bins_than_asked():
    bins = duration_histogram([30.0, 400.0, 3500.0], most_bins=20)
    assert len(bins) <= 20 and bins[0].low == 0 and bins[-1].high == 3600
    assert {b.high - b.low for b in bins} == {300} and sum(b.count for b in bins) == 3


def test_durations_close_together_share_a_bin_as_wide_as_their_size_calls_for():
    assert duration_histogram([66.3, 66.4, 66.6, 66.9]) == [Bin(66.0, 67.0, 4)]
    assert duration_histogram([0.3, 0.3]) == [Bin(0.3, 0.4, 2)]


def test_a_histogram_of_no_durations_is_empty():
    assert duration_histogram([]) == []


def test_totals_count_each_fact_once_and_add_up():
    from types import SimpleNamespace as Row

    from services.analytics.domain import Totals, totals_of

    def order(**facts):
        return Row(**{"placed_at": None, "first_pass_full": None, "completed_at": None, "cancelled_at": None,
                      "delivery_failed_at": None, "rejected_at": None, **facts})

    orders = [order(placed_at=at(1), first_pass_full=True, completed_at=at(5)),
              order(placed_at=at(2), first_pass_full=False, cancelled_at=at(3)),
              order(delivery_failed_at=at(4)), order(placed_at=at(6), rejected_at=at(7))]
    totals = totals_of(orders, [Row(quantity=5), Row(quantity=2)], [Row(), Row(), Row()])
    assert totals == Totals(placed=3, completed=1, cancelled=1, delivery_failed=1, rejected=1, reserved=2,
                            fully_reserved=1, produced_units=7, deadline_breaches=3)
    assert totals + Totals(placed=3) == Totals(placed=6, completed=1, cancelled=1, delivery_failed=1, rejected=1,
                                               reserved=2, fully_reserved=1, produced_units=7, deadline_breaches=3)
