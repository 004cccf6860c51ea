"""Prometheus metrics every service serves on `GET /metrics`: HTTP, jobs, outbox, consumer, process.

The metrics every service has are defined here; a service's own (the monitor's restarted jobs, Analytics' business
figures) and the outbox backlog gauges live beside the code that reads them (docs/metrics.md lists them all).
What a request, a job, a record or a relay round updates lives in memory only; what needs the database (the
outbox backlog, a service's own figures) is read when Prometheus scrapes. Labels stay few: a route template, a job
type, a topic, a lane — never an order id. The default registry's process collector adds CPU, memory and open files
(`process_*`).
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.runtime.db import unit_of_work

log = logging.getLogger(__name__)

# A `_created` series per labelled child doubles the output and nobody here reads it.
disable_created_metrics()

METRICS_PATH = "/metrics"

HTTP_REQUEST_SECONDS = Histogram(
    "fulfil_http_request_duration_seconds", "Time to answer an HTTP request, by route template and status.",
    ["method", "route", "status"])
JOB_SECONDS = Histogram(
    "fulfil_job_duration_seconds", "Time a job handler ran (its own work, not the wait before a retry).",
    ["job_type"])
JOBS = Counter(
    "fulfil_jobs", "Jobs handled, by outcome: completed, bpmn_error, rejected (incident at once), "
    "failed (will retry), exhausted (no retries left: incident), "
    "expired (its deadline passed before it ran: not run).", ["job_type", "outcome"])
OUTBOX_PUBLISHED = Counter("fulfil_outbox_published_rows", "Outbox rows published, per lane.", ["lane"])
OUTBOX_PUBLISH_FAILURES = Counter(
    "fulfil_outbox_publish_failures", "Attempts to publish an outbox row that failed, per lane.", ["lane"])
CONSUMER_SECONDS = Histogram(
    "fulfil_consumer_handling_duration_seconds", "Time to handle one consumed record, per topic.", ["topic"])
CONSUMED = Counter(
    "fulfil_consumer_records", "Records consumed, by outcome: handled, duplicate (the inbox had it), "
    "ignored (no subscription for its type), dead_lettered, retried.", ["topic", "outcome"])

# Bounds a scrape's database read: a slow or unreachable database must not hold Prometheus up.
SCRAPE_STATEMENT_TIMEOUT_MS = 2_000
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestTimer:
    """ASGI middleware timing each request under the template of the route that answered it.

    The concrete path holds ids, so an unrouted request is counted as `unmatched`; `/metrics`
    itself is not counted, so scraping does not change what it reports.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before it answers

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # The router writes the route it chose into this same scope.
            route = getattr(scope.get("route"), "path_format", None) or "unmatched"
            method = scope["method"] if scope["method"] in STANDARD_METHODS else "other"
            HTTP_REQUEST_SECONDS.labels(method, route, str(status)).observe(time.perf_counter() - started)


def exposition(collector: Collector = REGISTRY) -> Response:
    """Every metric of this process (or only `collector`'s) in Prometheus' text format."""
    return Response(generate_latest(collector), media_type=CONTENT_TYPE_LATEST)


ReadMetrics = Callable[[Connection], Iterable[Metric]]


class ReadAtScrape(Collector):
    """Metric families read from the service's database in a short transaction each time Prometheus scrapes.

    A failed read is logged and leaves its families out of this scrape; the other metrics still answer.
    """

    def __init__(self, sessions: Engine, read: ReadMetrics) -> None:
        self.sessions = sessions
        self.read = read

    def describe(self) -> list[Metric]:
        return []  # the registry would otherwise call collect(), i.e. query, just to learn the names

    def collect(self) -> Iterable[Metric]:
        try:
            with unit_of_work(self.sessions) as session:
                session.execute(text(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}"))
                families = list(self.read(session))
        except Exception as exc:
            log.warning("metrics: could not read %s: %s", getattr(self.read, "__name__", self.read), exc)
            return []
        return families


class AtMostEvery(Collector):
    """Another collector's families, collected again only once the last ones are `seconds` old: however often, and
    by however many scrapers, they are asked for, collecting them costs once per interval (a failed read, which
    ReadAtScrape answers with no families, too)."""

    def __init__(self, collector: Collector, seconds: float) -> None:
        self.collector = collector
        self.seconds = seconds
        self.families: list[Metric] = []
        self.collected_at = -math.inf
        self._lock = threading.Lock()  # scrapes at once wait for the one collecting rather than collect too

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if time.monotonic() - self.collected_at >= self.seconds:
                self.families = list(self.collector.collect())
                self.collected_at = time.monotonic()
            return self.families


def lag_from_statistics(statistics: dict[str, Any]) -> dict[tuple[str, int], int]:
    """Per (topic, partition) this consumer is assigned, the records after the group's committed offset.

    `statistics` is what librdkafka emits every `statistics.interval.ms`. Partition -1 is its own
    bookkeeping. Where the group has committed nothing yet librdkafka says -1; the consumer starts
    such a partition from its beginning, so everything on it is the lag. Offsets not known yet
    (before the first fetch) are negative too, and leave the partition out until the next report.
    """
    lag = {}
    for topic, about in statistics.get("topics", {}).items():
        for partition in about.get("partitions", {}).values():
            if partition["partition"] < 0 or not partition.get("desired"):
                continue
            behind = partition["consumer_lag"]
            if behind < 0 and partition["committed_offset"] < 0 <= min(partition["lo_offset"], partition["ls_offset"]):
                behind = partition["ls_offset"] - partition["lo_offset"]
            if behind >= 0:
                lag[(topic, partition["partition"])] = behind
    return lag


class ConsumerLag(Collector):
    """The consumer's lag per topic and partition, as librdkafka last reported it (no broker call per scrape).

    Replaced whole on each report, so a partition moved to another replica disappears with the next one.
    A service runs one consumer; a second one in the process would overwrite the first's figures.
    """

    def __init__(self) -> None:
        self.latest: dict[tuple[str, int], int] = {}

    def report(self, statistics_json: str) -> None:
        """librdkafka's `stats_cb`."""
        self.latest = lag_from_statistics(json.loads(statistics_json))

    def describe(self) -> list[Metric]:
        return [GaugeMetricFamily("fulfil_consumer_lag_records", "", labels=["topic", "partition"])]

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("fulfil_consumer_lag_records",
                                   "Records on a partition after the consumer group's committed offset.",
                                   labels=["topic", "partition"])
        for (topic, partition), lag in sorted(self.latest.items()):
            family.add_metric([topic, str(partition)], lag)
        yield family


CONSUMER_LAG = ConsumerLag()
REGISTRY.register(CONSUMER_LAG)
