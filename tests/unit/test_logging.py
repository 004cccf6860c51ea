"""A log line names the order and the trace it belongs to, as text or as one JSON object, and nothing else's."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from pyzeebe import Job

from shared.contracts.base import OrderJob
from shared.contracts.factory import ItemsProduced
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import EventConsumer, Subscription
from shared.runtime.logging import ACCESS, RequestLog, ServiceFormatter, config, log_context
from shared.runtime.zeebe import _adapter, _Handler
from tests.unit.kafka_records import KafkaRecord

log = logging.getLogger("tests.logging")
TRACE_ID, SPAN_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7


class Step(OrderJob, job_type="test.logging"):
    pass


@pytest.fixture
def lines():
    """What the test's loggers and the access log write, in the format asked for with `lines.use("json")`."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ServiceFormatter("order"))
    loggers = [log, ACCESS]
    before = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    def read() -> list[str]:
        return stream.getvalue().splitlines()

    def use(log_format: str) -> None:
        handler.setFormatter(ServiceFormatter("order", log_format))

    read.use = use
    read.handler = handler
    read.json = lambda: [json.loads(line) for line in read()]
    yield read
    for logger, (level, propagate) in zip(loggers, before, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@contextmanager
def in_span():
    """A current span with known ids, as the tracing's spans are while a job, an event or a request runs."""
    context = trace.SpanContext(trace_id=TRACE_ID, span_id=SPAN_ID, is_remote=False)
    with trace.use_span(trace.NonRecordingSpan(context)):
        yield


def test_a_text_line_reads_as_before_and_ends_with_the_ids_it_knows(lines):
    log.info("no order here")
    with log_context(order_id="o-1"):
        log.info("reserved %d units", 3)
    assert lines()[0].endswith(" order     INFO    tests.logging: no order here")
    assert lines()[1].endswith(" order     INFO    tests.logging: reserved 3 units [order_id=o-1]")


def test_a_json_line_has_the_time_in_utc_the_level_the_service_the_logger_and_the_message(lines):
    lines.use("json")
    log.warning("stock low for %s", "SKU-1")
    [line] = lines.json()
    assert line.pop("time").endswith("Z")
    assert line == {"level": "WARNING", "service": "order", "logger": "tests.logging", "message": "stock low for SKU-1"}


def test_the_time_of_a_json_line_is_iso_8601_utc_to_the_millisecond(lines):
    lines.use("json")
    log.info("now")
    stamp = lines.json()[0]["time"]
    assert time.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ") and len(stamp.rpartition(".")[2]) == 4


def test_a_traceback_is_one_field_of_one_json_line(lines):
    lines.use("json")
    with log_context(order_id="o-1"):
        try:
            raise ValueError("no such SKU")
        except ValueError:
            log.exception("could not reserve")
    [raw] = lines()
    line = json.loads(raw)
    assert line["message"] == "could not reserve" and line["order_id"] == "o-1"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: no such SKU")


def test_a_line_in_a_span_carries_its_trace_and_span_ids(lines):
    lines.use("json")
    with in_span():
        log.info("in a span")
    log.info("after it")
    first, after = lines.json()
    assert (first["trace_id"], first["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert "trace_id" not in after and "span_id" not in after


def job(**variables) -> Job:
    return Job(key=1, type=Step.job_type, process_instance_key=1, bpmn_process_id="test", process_definition_version=1,
               process_definition_key=1, element_id="Step", element_instance_key=1, custom_headers={},
               worker="test-worker", retries=3, deadline=int((time.time() + 60) * 1000), variables=variables)


def test_a_job_handlers_lines_carry_the_jobs_order_and_trace_and_the_next_jobs_do_not(lines):
    lines.use("json")

    def handler(step: Step) -> None:
        log.info("handling %s", step.order_id)

    run = _adapter(_Handler(handler, Step, ()), {}, 1, {})  # one thread: the second job runs on the first's
    with in_span():
        asyncio.run(run(job(orderId="o-1"), orderId="o-1"))
    asyncio.run(run(job(), orderId="o-2"))
    first, second = lines.json()
    assert (first["message"], first["order_id"], first["trace_id"]) == ("handling o-1", "o-1", format(TRACE_ID, "032x"))
    assert second["message"] == "handling o-2" and "order_id" not in second and "trace_id" not in second


def test_an_event_handlers_lines_carry_the_events_order_and_the_next_lines_do_not(lines):
    lines.use("json")

    @contextmanager
    def units():
        first_time = SimpleNamespace(first=lambda: ("event id",))
        yield SimpleNamespace(session=SimpleNamespace(execute=lambda *args: first_time))

    def handler(uow, event, envelope) -> None:
        log.info("%s units produced", event.quantity)

    consumer = EventConsumer(subscriptions=[Subscription(ItemsProduced, handler)], units=units, name="test",
                             bootstrap="", group_id="test", topics=["factory.events"], sessions=None,
                             dead_letter_topic="factory.dead-letter", producer=None)
    event = ItemsProduced(order_id="o-7", request_id="r-1", sku="SKU-1", quantity=2)
    with in_span():
        assert consumer.handle(KafkaRecord(Envelope.wrap(event, source="test"), topic="factory.events")) == "handled"
    log.info("between events")
    handled, between = lines.json()
    assert (handled["message"], handled["order_id"], handled["trace_id"]) == ("2 units produced", "o-7",
                                                                              format(TRACE_ID, "032x"))
    assert "order_id" not in between


def app_of_orders() -> RequestLog:
    app = FastAPI()

    @app.get("/orders/{order_id}")
    def order(order_id: str) -> dict:
        log.info("looking up the order")
        return {"id": order_id}

    @app.get("/orders")
    def orders() -> list:
        log.info("listing orders")
        return []

    return RequestLog(app)


def test_a_requests_lines_under_orders_id_carry_the_order_and_its_access_line_is_json_without_the_query(lines):
    lines.use("json")
    with TestClient(app_of_orders()) as client:
        assert client.get("/orders/o-3?access_token=secret").status_code == 200
        assert client.get("/orders?access_token=secret").status_code == 200
    in_route, access, listing, listed = lines.json()
    assert (in_route["message"], in_route["order_id"]) == ("looking up the order", "o-3")
    assert access["logger"] == ACCESS.name and access["order_id"] == "o-3"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/orders/o-3", 200)
    assert access["message"].startswith("GET /orders/o-3 200 ") and isinstance(access["duration_ms"], float)
    assert "order_id" not in listing and "order_id" not in listed and listed["path"] == "/orders"
    assert "secret" not in "".join(lines())


def test_the_access_line_carries_the_trace_of_the_request_it_answers(lines):
    lines.use("json")
    with TestClient(app_of_orders()) as client, in_span():
        client.get("/orders/o-4")
    assert lines.json()[-1]["trace_id"] == format(TRACE_ID, "032x")


@pytest.fixture
def restored_logging():
    """dictConfig replaces the root's handlers and the levels it names: give them back after the test."""
    root = logging.getLogger()
    named = ["uvicorn", "uvicorn.error", "httpx", "pyzeebe"]
    before = (root.handlers[:], root.level, {n: logging.getLogger(n).__dict__.copy() for n in named})
    yield
    root.handlers[:], root.level = before[0], before[1]
    for name, state in before[2].items():
        logging.getLogger(name).__dict__.update(state)


def test_uvicorns_error_log_and_every_other_logger_write_the_services_json_lines(restored_logging, capsys):
    logging.config.dictConfig(config("warehouse", "json"))
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    with log_context(order_id="o-5"):
        logging.getLogger("services.warehouse").info("reserved")
    logging.getLogger("pyzeebe").info("too chatty to show")
    startup, reserved = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert startup["logger"] == "uvicorn.error" and startup["service"] == "warehouse"
    assert startup["message"] == "Application startup complete."
    assert reserved["order_id"] == "o-5" and reserved["service"] == "warehouse"


def test_the_log_format_is_one_setting_for_every_service(monkeypatch):
    from services.order.settings import OrderSettings
    from services.warehouse.settings import WarehouseSettings

    assert OrderSettings().log_format == "text"
    monkeypatch.setenv("FULFIL_LOG_FORMAT", "json")
    assert OrderSettings().log_format == WarehouseSettings().log_format == "json"


def test_probes_and_scrapes_that_succeed_log_their_access_lines_at_debug_only(lines):
    app = FastAPI()

    @app.get("/health")
    def health() -> dict:
        return {}

    @app.get("/ready")
    def ready() -> None:
        raise RuntimeError("the database is down")

    with TestClient(RequestLog(app), raise_server_exceptions=False) as client:
        client.get("/health")
        client.get("/ready")
    [line] = lines()
    assert "GET /ready 500" in line


def test_a_job_done_is_one_line_in_its_orders_context(lines):
    lines.use("json")
    worker_log = logging.getLogger("shared.runtime.zeebe")
    worker_log.addHandler(lines.handler)
    level = worker_log.level
    worker_log.setLevel(logging.INFO)
    try:
        asyncio.run(_adapter(_Handler(lambda step: None, Step, ()), {}, 1, {})(job(orderId="o-8"), orderId="o-8"))
    finally:
        worker_log.removeHandler(lines.handler)
        worker_log.setLevel(level)
    [done] = lines.json()
    assert done["order_id"] == "o-8" and done["message"].startswith("job 1 (test.logging, instance 1) done in ")
