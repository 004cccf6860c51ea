"""What /metrics makes of librdkafka's statistics, and the analytics figures as metrics; no I/O but a fake JWKS."""
import dataclasses
import importlib
import math
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.analytics import figures
from services.analytics.figures import metric_families
from services.monitor import repairs
from services.order import reconciler
from shared.contracts.roles import CUSTOMER, OPERATOR
from shared.runtime.metrics import lag_from_statistics
from shared.runtime.service import create_app
from tests.unit.tokens import ISSUER, JwksEndpoint, token


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
    "orders": {"placed": 6, "completed": 3, "cancelled": 1, "delivery_failed": 1, "rejected": 0, "open": 1},
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
    assert samples[("fulfil_orders_total", (("event", "completed"),))] == 3
    assert samples[("fulfil_orders_total", (("event", "cancelled"),))] == 1
    assert samples[("fulfil_orders_total", (("event", "delivery_failed"),))] == 1
    assert samples[("fulfil_open_orders", ())] == 1
    assert samples[("fulfil_lead_time_seconds", (("quantile", "0.5"),))] == 4.5
    assert math.isnan(samples[("fulfil_lead_time_seconds", (("quantile", "0.95"),))])
    assert samples[("fulfil_first_pass_fill_rate", ())] == 0.75
    assert samples[("fulfil_open_backorders", ())] == 2
    assert math.isnan(samples[("fulfil_oldest_backorder_age_seconds", ())])
    assert samples[("fulfil_factory_produced_units_total", ())] == 12
    assert samples[("fulfil_delivery_deadline_breaches_total", ())] == 0


class NoDatabase:
    """An engine whose one connection takes any statement and reads nothing: for figures computed without one."""

    info: dict = {}

    def connect(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def execute(self, statement) -> None:
        return None

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


def test_the_figures_as_metrics_need_an_operators_token_and_are_computed_at_most_once_per_interval(monkeypatch):
    computed = []
    monkeypatch.setattr(figures, "compute", lambda session, **_: computed.append(session) or FIGURES)
    analytics = importlib.import_module("services.analytics.app").service
    with JwksEndpoint() as provider:
        settings = analytics.settings.model_copy(update={"auth_issuer": ISSUER, "auth_jwks_url": provider.url})
        app = create_app(dataclasses.replace(analytics, settings=settings))
        app.state.settings, app.state.sessions = settings, NoDatabase()  # what the lifespan would set
        client = TestClient(app)
        assert client.get("/figures/metrics").status_code == 401
        customer = {"Authorization": f"Bearer {token(roles=(CUSTOMER,))}"}
        assert client.get("/figures/metrics", headers=customer).status_code == 403
        operator = {"Authorization": f"Bearer {token(subject='op', roles=(OPERATOR,))}"}
        scrapes = [client.get("/figures/metrics", headers=operator) for _ in range(5)]
        assert {s.status_code for s in scrapes} == {200}
        assert 'fulfil_orders_total{event="completed"} 3.0' in scrapes[-1].text
        assert len(computed) == 1
        now = time.monotonic() + 10 * 60
        monkeypatch.setattr(time, "monotonic", lambda: now)
        assert 'fulfil_open_orders 1.0' in client.get("/figures/metrics", headers=operator).text
        assert len(computed) == 2


class Answers:
    """A connection whose every statement reads the rows given."""

    def __init__(self, rows) -> None:
        self.rows = rows

    def execute(self, statement):
        return self

    def all(self):
        return self.rows


def test_open_incidents_are_counted_per_element_for_the_alert():
    samples = exposed(repairs.incident_metrics(Answers([("ship", 1), ("reserve-stock", 2)])))
    assert samples == {("fulfil_monitor_open_incidents", (("element", "reserve-stock"),)): 2,
                       ("fulfil_monitor_open_incidents", (("element", "ship"),)): 1}


def test_stalled_orders_and_the_longest_stall_are_gauges_for_the_alert(monkeypatch):
    asked = []
    monkeypatch.setattr(reconciler.db, "count_idle_orders",
                        lambda session, idle_for: asked.append(idle_for) or (3, 912.5))
    samples = exposed(reconciler.stall_metrics(None, stuck_after=timedelta(minutes=5)))
    assert samples == {("fulfil_order_stalled_orders", ()): 3, ("fulfil_order_longest_stall_seconds", ()): 912.5}
    assert asked == [timedelta(minutes=5)]
