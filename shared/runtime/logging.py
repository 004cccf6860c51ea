"""One log format for every process: readable text, or JSON lines by one setting; a line names its order and trace.

The edges say which order the work is about (`log_context`: a job, an event, a request under /orders/{id}); the
trace and span ids come from the current OpenTelemetry span. No log call names them itself.
"""
from __future__ import annotations

import json
import logging
import logging.config
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Literal

try:
    from opentelemetry import trace
except ImportError:  # without the API installed, lines carry no trace ids
    trace = None

LogFormat = Literal["text", "json"]
# The ids a line carries when they are known, in this order.
CONTEXT_FIELDS = ("order_id", "trace_id", "span_id")
# What an access line adds (RequestLog).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
# Libraries that say too much at INFO.
QUIET = ("httpx", "pyzeebe")

_ids: ContextVar[Mapping[str, str]] = ContextVar("log_ids", default=MappingProxyType({}))


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Every line logged in the block, in this thread or task and what it starts with a copy of its context,
    carries these ids (`order_id=...`); None leaves one out. Blocks nest, and each takes its ids back on leaving."""
    token = _ids.set(MappingProxyType({**_ids.get(), **{name: str(v) for name, v in ids.items() if v is not None}}))
    try:
        yield
    finally:
        _ids.reset(token)


def current_ids() -> dict[str, str]:
    """The ids a line logged here carries: the log context's, and the current span's trace and span ids."""
    ids = dict(_ids.get())
    span = trace.get_current_span().get_span_context() if trace is not None else None
    if span is not None and span.is_valid:
        ids["trace_id"] = format(span.trace_id, "032x")
        ids["span_id"] = format(span.span_id, "016x")
    return ids


class ServiceFormatter(logging.Formatter):
    """A line as text (`<time> <service> <level> <logger>: <message> [order_id=... trace_id=...]`) or as one JSON
    object (time, level, service, logger, message, the ids, `exception` with the whole traceback)."""

    def __init__(self, service: str, log_format: LogFormat = "text") -> None:
        super().__init__(f"%(asctime)s {service:<9} %(levelname)-7s %(name)s: %(message)s")
        self.service = service
        self.json = log_format == "json"

    @staticmethod
    def ids(record: logging.LogRecord) -> dict[str, Any]:
        # Ids passed with the call (`extra=`) win over the context's: an access line is logged after its request.
        found = {**current_ids(), **{name: getattr(record, name) for name in CONTEXT_FIELDS if hasattr(record, name)}}
        return {name: found[name] for name in CONTEXT_FIELDS if found.get(name)}

    def formatMessage(self, record: logging.LogRecord) -> str:
        ids = self.ids(record)
        ids = " [" + " ".join(f"{name}={value}" for name, value in ids.items()) + "]" if ids else ""
        return super().formatMessage(record) + ids

    def format(self, record: logging.LogRecord) -> str:
        if not self.json:
            return super().format(record)
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "level": record.levelname, "service": self.service, "logger": record.name,
                "message": record.getMessage().rstrip(), **self.ids(record),
                **{name: getattr(record, name) for name in ACCESS_FIELDS if hasattr(record, name)}}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def config(service: str, log_format: LogFormat = "text", level: int | str = logging.INFO) -> dict:
    """The `logging.config.dictConfig` of a service's process, uvicorn's loggers included (its `log_config`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"service": {"()": ServiceFormatter, "service": service, "log_format": log_format}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "service",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {**{name: {"level": "WARNING"} for name in QUIET},
                    # uvicorn's own handlers and formats give way to the root's.
                    **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")}},
    }


def configure(service: str, log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    logging.config.dictConfig(config(service, log_format, level))


ACCESS = logging.getLogger("shared.runtime.access")
# A request about one order; the id is the path's segment after /orders/.
ORDER_PATH = re.compile(r"/orders/(?P<order_id>[^/]+)")
# The launcher's probes and Prometheus's scrapes (service.py's operations routes) ask every few seconds: their
# access lines are DEBUG unless the answer is an error.
ROUTINE_PATHS = frozenset({"/health", "/ready", "/metrics"})


class RequestLog:
    """ASGI middleware: each HTTP request is one access line (method, path without its query string, which may
    carry a token, status, duration in ms; no client address), and what is logged while a request under
    /orders/{id} runs names that order. Instead of uvicorn's access log, which has no duration and the query."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        about = ORDER_PATH.match(path)
        started = time.perf_counter()
        answer: dict[str, Any] = {"status": 500}

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                # The ids of the request's span, which has ended by the time the line is logged.
                answer.update(current_ids(), status=message["status"])
            await send(message)

        with log_context(order_id=about and about["order_id"]):
            try:
                await self.app(scope, receive, sending)
            finally:
                took = round((time.perf_counter() - started) * 1000, 1)
                routine = path in ROUTINE_PATHS and answer["status"] < 400
                ACCESS.log(logging.DEBUG if routine else logging.INFO, "%s %s %s %.1f ms", scope.get("method"), path,
                           answer["status"], took,
                           extra={**answer, "method": scope.get("method"), "path": path, "duration_ms": took})
