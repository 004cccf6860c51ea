"""Traces: one OpenTelemetry tracer provider per service process, exported to Zipkin, and the W3C `traceparent`
that carries a trace over every hop an order takes (HTTP, the outbox, Kafka, the engine's process variables).

Settings (shared.runtime.settings.ServiceSettings, per service as FULFIL_<SERVICE>_*):
- TRACING_ENDPOINT: Zipkin's JSON v2 span API, e.g. http://127.0.0.1:9411/api/v2/spans; empty turns export off (spans
  are still made, so the context still travels and an order still gets a trace id). The launcher passes its Zipkin's.
- TRACING_SAMPLE_RATIO: the share of new traces kept (0..1); a continued trace follows its parent's decision.
- TRACING_SQL: a span per SQL statement (off: it costs about as much CPU as the statements themselves).

Where the context travels: an outbox row keeps the `traceparent` of the span that wrote it; the relay publishes the
row in a span continuing it and puts that span's on the CloudEvent (extension `traceparent`, Kafka header
`ce_traceparent`) or on the Zeebe message (process variable `traceparent`, which the BPMN carries to every job, call
activities too); consumers and job handlers continue from there. Spans carry ids only, never customer data.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

# The W3C header, CloudEvents extension and process variable that carry a span's context.
TRACEPARENT = "traceparent"
# Spans waiting for export; past it new ones are dropped, so memory stays bounded while Zipkin is down.
QUEUE_SPANS = 2048
EXPORT_TIMEOUT_SECONDS = 2
# Paths polled by the launcher, Prometheus and the pages: a trace each would bury the orders' ones.
UNTRACED_PATHS = "/health,/ready,/metrics,/web/.*,/login.*"

_PROPAGATOR = TraceContextTextMapPropagator()
# A proxy: it uses whatever provider `configure` installs, and makes no-op spans until then (tests, tools).
tracer = trace.get_tracer("shared.runtime")


class QuietZipkinExporter(ZipkinExporter):
    """Zipkin's exporter that answers a collector it cannot reach with a failed export and one warning per outage,
    not a stack trace per batch: traces are a diagnosis aid and must never make noise or trouble of their own."""

    def __init__(self, endpoint: str, timeout: float = EXPORT_TIMEOUT_SECONDS) -> None:
        super().__init__(endpoint=endpoint, timeout=timeout)  # type: ignore[arg-type]
        self.down_since: float | None = None

    def export(self, spans) -> SpanExportResult:
        try:
            result = super().export(spans)
        except requests.RequestException as exc:
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning("traces not exported to %s (dropped until it answers): %s", self.endpoint, exc)
            return SpanExportResult.FAILURE
        if self.down_since is not None:
            log.info("traces exported to %s again", self.endpoint)
            self.down_since = None
        return result


def tracer_provider(service_name: str, endpoint: str, sample_ratio: float = 1.0) -> TracerProvider:
    """A tracer provider named after the service, exporting to `endpoint` (nowhere when empty) in the background."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}),
                              sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
    if endpoint:
        # A span is handed to a queue and exported by the processor's thread: a request never waits for Zipkin.
        provider.add_span_processor(BatchSpanProcessor(
            QuietZipkinExporter(endpoint), max_queue_size=QUEUE_SPANS, schedule_delay_millis=1000,
            max_export_batch_size=512, export_timeout_millis=EXPORT_TIMEOUT_SECONDS * 1000))
    return provider


def configure(service_name: str, endpoint: str, sample_ratio: float = 1.0) -> TracerProvider:
    """Installs the process's tracer provider (`tracer_provider`) and the instrumentation of outgoing HTTP calls."""
    provider = tracer_provider(service_name, endpoint, sample_ratio)
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    return provider


def instrument_app(app) -> None:
    """Server spans for the app's requests (not the polled operational paths), continuing a caller's traceparent.
    The ASGI send/receive spans are left out: two more spans per request that say nothing of the order."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"])


def instrument_sql(engine) -> None:
    """A span per statement on `engine`: its text with placeholders, never the values bound to it."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine, enable_commenter=False)


def current_traceparent() -> str | None:
    """The current span's context as a W3C traceparent, or None outside any span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def current_trace_id() -> str | None:
    """The current trace's id (32 hex digits, as Zipkin shows it), or None outside any span."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def context_of(traceparent: str | None) -> Context | None:
    """The context a traceparent names; None (a new trace) for none or a malformed one."""
    return _PROPAGATOR.extract({TRACEPARENT: traceparent}) if traceparent else None


@contextmanager
def continued(name: str, traceparent: str | None, *, kind: SpanKind = SpanKind.INTERNAL,
              attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
    """A span, current inside the block, that continues `traceparent` (a new trace without one)."""
    kept = {name: value for name, value in (attributes or {}).items() if value is not None}
    with tracer.start_as_current_span(name, context=context_of(traceparent), kind=kind, attributes=kept) as span:
        yield span
