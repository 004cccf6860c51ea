"""What /metrics makes of librdkafka's statistics and of the analytics figures; no I/O."""
import math

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from runtime.metrics import lag_from_statistics
from services.analytics.figures import metric_families


def partition(number: int, *, lag: int, committed: int = 10, lo: int = 0, ls: int = 10, desired: bool = True) -> dict:
    """One partition of librdkafka's statistics, with the fields the lag is read from."""
    return {"partition": number, "desired": desired, "consumer_lag": lag, "committed_offset": committed,
            "lo_offset": lo, "ls_offset": ls}


def statistics(topic: str, *partitions: dict) -> dict:
    return {"topics": {topic: {"partitions": {str(p["partition"]): p for p in partitions}}}}


def test_lag_is_librdkafkas_figure_per_assigned_partition():
    reported = statistics("order.events", partition(0, lag=3), partition(1, lag=0),
                          partition(-1, lag=-1, committed=-1001, lo=-1001, ls=-1001, desired=False))
    assert lag_from_statistics(reported) == {("order.events", 0): 3, ("order.events", 1): 0}


def test_a_partition_the_group_never_committed_on_lags_by_everything_on_it():
    reported = statistics("order.events", partition(0, lag=-1, committed=-1001, lo=4, ls=9),
                          partition(1, lag=-1, committed=-1001, lo=0, ls=0))
    assert lag_from_statistics(reported) == {("order.events", 0): 5, ("order.events", 1): 0}


def test_partitions_not_assigned_or_whose_offsets_are_unknown_yet_are_left_out():
    reported = statistics("order.events", partition(0, lag=7, desired=False),
                          partition(1, lag=-1, committed=-1001, lo=-1001, ls=-1001))
    assert lag_from_statistics(reported) == {}


FIGURES = {
    "orders": {"placed": 6, "completed": 3, "cancelled": 1, "delivery_failed": 1, "open": 1},
    "lead_time_seconds": {"count": 3, "p50": 4.5, "p95": None},
    "first_pass_fill_rate": {"rate": 0.75},
    "open_backorders": {"count": 2, "oldest_age_seconds": None},
    "factory": {"produced_units": 12},
    "delivery_deadline_breaches": 0,
}


class Given:
    """A collector that yields the families it was given."""

    def __init__(self, families) -> None:
        self.families = families

    def collect(self):
        return self.families


def exposed(families) -> dict[tuple[str, tuple], float]:
    """The families as Prometheus writes them and a scraper reads them back: (sample name, labels) -> value."""
    registry = CollectorRegistry()
    registry.register(Given(families))
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_analytics_figures_keep_their_prometheus_names_and_a_missing_figure_is_nan():
    samples = exposed(metric_families(FIGURES))
    assert samples[("fulfilment_orders_total", (("event", "completed"),))] == 3
    assert samples[("fulfilment_orders_total", (("event", "cancelled"),))] == 1
    assert samples[("fulfilment_orders_total", (("event", "delivery_failed"),))] == 1
    assert samples[("fulfilment_open_orders", ())] == 1
    assert samples[("fulfilment_lead_time_seconds", (("quantile", "0.5"),))] == 4.5
    assert math.isnan(samples[("fulfilment_lead_time_seconds", (("quantile", "0.95"),))])
    assert samples[("fulfilment_first_pass_fill_rate", ())] == 0.75
    assert samples[("fulfilment_open_backorders", ())] == 2
    assert math.isnan(samples[("fulfilment_oldest_backorder_age_seconds", ())])
    assert samples[("fulfilment_factory_produced_units_total", ())] == 12
    assert samples[("fulfilment_delivery_deadline_breaches_total", ())] == 0
