"""A trace follows an order's work over every hop: the outbox row, the relay's publish, the Kafka event, the consumer,
the engine's jobs; and tracing never slows or breaks the work when the collector is down."""
from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once
from pyzeebe import Job

from shared.contracts.base import JobInput
from shared.contracts.order import OrderPlaced
from shared.runtime import tracing
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventConsumer, Subscription
from shared.runtime.outbox import UnitOfWork
from shared.runtime.relay import KafkaLane, ZeebeLane
from shared.runtime.tracing import (
    EXPORT_TIMEOUT_SECONDS,
    QUEUE_SPANS,
    TRACEPARENT,
    QuietZipkinExporter,
    current_traceparent,
    tracer,
    tracer_provider,
)
from shared.runtime.zeebe import JobHandlers, _adapter
from tests.unit.kafka_records import KafkaRecord

SPANS = InMemorySpanExporter()


@pytest.fixture(autouse=True, scope="module")
def provider() -> Iterator[None]:
    """A recording provider as the process's for these tests only: the other tests run with none, as tools do.
    The API lets a process set its provider once, and the runtime's proxy tracer keeps the first it finds."""
    installed = TracerProvider()
    installed.add_span_processor(SimpleSpanProcessor(SPANS))
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace.set_tracer_provider(installed)
    yield
    trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = None, Once()
    tracing.tracer._real_tracer = None


@pytest.fixture(autouse=True)
def spans() -> InMemorySpanExporter:
    SPANS.clear()
    return SPANS


def traceparent_of(span) -> str:
    context = span.get_span_context()
    ids = f"{trace.format_trace_id(context.trace_id)}-{trace.format_span_id(context.span_id)}"
    return f"00-{ids}-{context.trace_flags:02x}"


class RecordingSession:
    """Stands in for a connection: keeps the parameters of each statement and answers like an insert returning."""

    def __init__(self) -> None:
        self.info: dict = {}
        self.params: list[dict] = []

    def execute(self, _statement, params=None):
        self.params.append(params)
        return SimpleNamespace(scalar_one=lambda: len(self.params), first=lambda: ("new",))


SERVICE = SimpleNamespace(source="/fulfilment/order", events_topic="order.events")
PLACED = OrderPlaced(order_id="o-1", customer_id="c-1", items=[{"sku": "SKU-1", "quantity": 1}])


def test_a_unit_of_work_writes_the_current_traceparent_into_its_outbox_row():
    session = RecordingSession()
    with tracer.start_as_current_span("place order") as span:
        UnitOfWork(session, SERVICE).publish(PLACED)
    UnitOfWork(session, SERVICE).publish(PLACED)
    assert session.params[0]["traceparent"] == traceparent_of(span)
    assert session.params[1]["traceparent"] is None  # outside any span: no trace to continue


def kafka_row(traceparent: str | None):
    envelope = Envelope.wrap(PLACED, source=SERVICE.source)
    return SimpleNamespace(seq=1, key="o-1", topic="order.events", traceparent=traceparent, payload={
        "id": envelope.id, "type": envelope.type, "source": envelope.source, "subject": envelope.subject,
        "time": envelope.time.isoformat(), "correlation_id": envelope.correlation_id, "causation_id": None,
        "data": envelope.data})


class RecordingProducer:
    def __init__(self) -> None:
        self.headers: list[dict] = []

    def produce(self, _topic, *, headers, on_delivery, **_) -> None:
        self.headers.append(dict(headers))
        on_delivery(None, None)

    def flush(self, _timeout) -> int:
        return 0


def test_the_relay_publishes_a_row_in_a_span_continuing_its_trace_and_puts_it_on_the_kafka_headers(spans):
    with tracer.start_as_current_span("place order") as writer:
        written = current_traceparent()
    producer = RecordingProducer()
    assert KafkaLane(sessions=None, producer=producer, poll_seconds=1).produce_wave([kafka_row(written)]) == {}
    [publish] = [s for s in spans.get_finished_spans() if s.name == "publish order.events"]
    assert publish.parent.span_id == writer.get_span_context().span_id
    assert publish.context.trace_id == writer.get_span_context().trace_id
    assert producer.headers[0]["ce_traceparent"].decode() == traceparent_of(publish)
    assert Envelope.from_kafka(list(producer.headers[0].items()), b"o-1", b"{}").traceparent == traceparent_of(publish)


def test_a_row_written_outside_any_trace_is_published_without_one(spans):
    producer = RecordingProducer()
    KafkaLane(sessions=None, producer=producer, poll_seconds=1).produce_wave([kafka_row(None)])
    assert "ce_traceparent" not in producer.headers[0]
    assert spans.get_finished_spans() == ()


def test_a_zeebe_message_carries_the_relay_span_as_the_traceparent_variable(spans):
    with tracer.start_as_current_span("place order"):
        written = current_traceparent()
    sent = {}

    class Zeebe:
        async def publish_message(self, *, variables, **_) -> None:
            sent.update(variables)

    row = SimpleNamespace(seq=1, key="o-1", topic="order-placed", traceparent=written,
                          created_at=datetime.now(timezone.utc), claimed_at=datetime.now(timezone.utc),
                          payload={"message_id": "o-1", "variables": {"orderId": "o-1"}, "ttl_ms": 60_000})
    lane = ZeebeLane(sessions=None, zeebe=Zeebe(), loop=None, poll_seconds=1)
    assert asyncio.run(lane.publish_all([row])) == {}
    [publish] = [s for s in spans.get_finished_spans() if s.name == "publish order-placed"]
    assert sent == {"orderId": "o-1", TRACEPARENT: traceparent_of(publish)}
    assert publish.parent.span_id.to_bytes(8, "big").hex() == written.split("-")[2]


def test_a_consumer_handles_an_event_in_a_span_that_is_a_child_of_the_events_context(spans):
    with tracer.start_as_current_span("publish order.events") as publisher:
        traceparent = current_traceparent()
    handled: list[str | None] = []

    @contextmanager
    def units() -> Iterator[UnitOfWork]:
        yield UnitOfWork(RecordingSession(), SERVICE)

    subscription = Subscription(OrderPlaced, lambda *_: handled.append(current_traceparent()))
    consumer = EventConsumer(subscriptions=[subscription], units=units, name="test", bootstrap="", group_id="g",
                             topics=[], sessions=None, dead_letter_topic="dlt", producer=None)
    envelope = Envelope(**{**vars(Envelope.wrap(PLACED, source=SERVICE.source)), "traceparent": traceparent})
    assert consumer.handle(KafkaRecord(envelope)) == "handled"
    [consume] = [s for s in spans.get_finished_spans() if s.name == f"consume {OrderPlaced.event_type}"]
    assert consume.parent.span_id == publisher.get_span_context().span_id
    assert consume.context.trace_id == publisher.get_span_context().trace_id
    assert handled == [traceparent_of(consume)]  # what the handler writes to the outbox continues it


class TracedStep(JobInput, job_type="test.traced-step"):
    order_id: str


def run_job(variables: dict) -> list:
    seen: list[str | None] = []
    handlers = JobHandlers()

    @handlers.task("test.traced-step")
    def traced_step(job: TracedStep) -> None:
        seen.append(current_traceparent())

    job = Job(key=7, type="test.traced-step", process_instance_key=9, bpmn_process_id="test",
              process_definition_version=1, process_definition_key=1, element_id="Step", element_instance_key=7,
              custom_headers={}, worker="test-worker", retries=3, deadline=int((time.time() + 60) * 1000),
              variables=variables)
    run = _adapter(handlers.handlers["test.traced-step"], {}, 1, {})
    assert asyncio.run(run(job, **variables)) == {}
    return seen


def test_a_job_handler_runs_in_a_span_continuing_the_jobs_traceparent_variable(spans):
    with tracer.start_as_current_span("publish order-placed") as message:
        traceparent = current_traceparent()
    seen = run_job({"orderId": "o-1", TRACEPARENT: traceparent})
    [step] = [s for s in spans.get_finished_spans() if s.name == "test.traced-step"]
    assert step.parent.span_id == message.get_span_context().span_id
    assert step.attributes["fulfil.order_id"] == "o-1"
    assert seen == [traceparent_of(step)]


def test_a_job_without_a_traceparent_starts_a_new_trace(spans):
    seen = run_job({"orderId": "o-1"})
    [step] = spans.get_finished_spans()
    assert step.parent is None and seen == [traceparent_of(step)]


def test_the_traceparent_variable_is_fetched_with_the_jobs_own():
    handlers = JobHandlers()

    @handlers.task("test.traced-step")
    def traced_step(job: TracedStep) -> None: ...

    [task] = handlers.router(concurrency=1).tasks
    assert set(task.config.variables_to_fetch) == {"orderId", TRACEPARENT}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seconds_for_spans(provider: TracerProvider, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        with provider.get_tracer("test").start_as_current_span(f"request {n}"):
            pass
    return time.perf_counter() - started


def test_spans_for_an_unreachable_collector_neither_slow_the_work_nor_raise():
    unexported = seconds_for_spans(tracer_provider("order", ""), QUEUE_SPANS + 500)
    provider = tracer_provider("order", f"http://127.0.0.1:{closed_port()}/api/v2/spans")
    # More than the queue holds: the rest are dropped, not waited for. The failing exports share the CPU, no more.
    assert seconds_for_spans(provider, QUEUE_SPANS + 500) < unexported * 4 + 0.5
    begun = time.perf_counter()
    provider.force_flush()  # exports what the queue holds, to nobody
    provider.shutdown()
    assert time.perf_counter() - begun < EXPORT_TIMEOUT_SECONDS * 3


def test_the_exporter_answers_an_unreachable_collector_with_a_failed_export():
    exporter = QuietZipkinExporter(f"http://127.0.0.1:{closed_port()}/api/v2/spans")
    with tracer.start_as_current_span("a request"):
        pass
    assert exporter.export(SPANS.get_finished_spans()) is SpanExportResult.FAILURE
