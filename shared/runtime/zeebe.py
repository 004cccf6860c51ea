"""Zeebe worker runtime on pyzeebe: typed job handlers, retries that outlast an outage, then an incident.

Every job type has JOB_RETRIES attempts (set in the BPMN). After a failure the worker waits
200 ms, 400 ms, ... up to 20 s itself and then fails the job with no engine backoff, so the
job is activatable again at once: the engine's own retry backoff can leave a failed job never
activated again (camunda/camunda#16884). The whole budget is about 6 minutes, longer than a
database or service restart. A job whose input can never succeed fails with no retries left at
once, so the incident appears immediately with a message that says what is wrong. A BPMN error
is pyzeebe's own BusinessError.

Job handling is bounded. The broker pushes every job of a stream at once, and pyzeebe starts a task for
each (its `max_running_jobs` bounds only polling) and runs a sync handler on the default executor, which
`/ready` and every `asyncio.to_thread` share. So each job type runs its handlers on threads of its own, as
many as the service's `job_concurrency`; the other jobs wait for one, and a job whose deadline passed
meanwhile is not run: the broker has handed it out again, and the run would be a second one. The waiting
jobs stay in pyzeebe's hands, a coroutine each; holding them back on the stream itself would mean
replacing pyzeebe's stream reader and job executor.

Clients never give up on the gateway: pyzeebe closes a channel for good after a number of
failed calls, so every channel here retries forever, and a worker that stops is built again.
"""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import time
import typing
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError
from pyzeebe import Job, JobController, ZeebeClient, ZeebeTaskRouter, ZeebeWorker, create_insecure_channel
from pyzeebe.errors import BusinessError

from shared.runtime.backoff import FailureBackoff, exponential
from shared.runtime.logging import log_context
from shared.runtime.metrics import JOB_SECONDS, JOBS
from shared.runtime.refusals import Refusals, refusal
from shared.runtime.tracing import TRACEPARENT, continued
from shared.runtime.validation import summarise

log = logging.getLogger(__name__)

JOB_RETRIES = 24
FIRST_BACKOFF_MS = 200
MAX_BACKOFF_MS = 20_000
# Longer than the worst case of any handler: its backoff wait plus its database time, which the
# session settings bound (shared.runtime.db). A job held by a killed worker, or activated for a request whose
# answer was lost while the gateway restarted, is activatable again after this.
JOB_TIMEOUT_MS = 60_000
# pyzeebe's setting for "never give up on the gateway".
RETRY_FOREVER = -1


class JobRejected(Exception):
    """The job's input is wrong; retrying cannot help, so it becomes an incident straight away."""


class JobExpired(Exception):
    """The job's deadline passed before a handler was free: the broker hands it out again, so it is not run."""


def retry_backoff_ms(retries_left: int, total: int = JOB_RETRIES) -> int:
    """Delay before the next attempt, given the retries that remain after this failure."""
    return int(exponential(total - retries_left, FIRST_BACKOFF_MS, MAX_BACKOFF_MS))


def retry_budget_seconds(total: int = JOB_RETRIES) -> float:
    """How long a job keeps being retried before it becomes an incident, handler time aside."""
    return sum(retry_backoff_ms(total - failures, total) for failures in range(1, total)) / 1000


async def on_job_failure(exc: Exception, job: Job, controller: JobController) -> None:
    """The one exception handler of every router: BPMN error, incident at once, or retry with backoff."""
    # The order id and instance key are what an operator greps for when an order is stuck.
    about = f"job {job.key} ({job.type}, order {job.variables.get('orderId', '?')}, " \
            f"instance {job.process_instance_key})"
    with log_context(order_id=job.variables.get("orderId")):
        await _report_failure(exc, job, controller, about)


async def _report_failure(exc: Exception, job: Job, controller: JobController, about: str) -> None:
    if isinstance(exc, JobExpired):
        # Nothing to tell the engine: the job is no longer this worker's.
        log.warning("%s not run: %s", about, exc)
        JOBS.labels(job.type, "expired").inc()
    elif isinstance(exc, BusinessError):
        log.info("%s throws BPMN error %s: %s", about, exc.error_code, exc)
        JOBS.labels(job.type, "bpmn_error").inc()
        await controller.set_error_status(str(exc), error_code=exc.error_code)
    elif isinstance(exc, (JobRejected, ValidationError)):
        reason = f"invalid variables: {summarise(exc)}" if isinstance(exc, ValidationError) else str(exc)
        message = f"{job.type}: {reason}"
        log.warning("%s rejected, raising an incident: %s", about, message)
        JOBS.labels(job.type, "rejected").inc()
        # pyzeebe's controller only counts retries down by one; an incident at once needs retries=0.
        await controller._zeebe_adapter.fail_job(job_key=job.key, retries=0, message=message[:4000],
                                                 retry_back_off_ms=0, variables={})
    else:
        retries_left = job.retries - 1
        backoff = retry_backoff_ms(retries_left)
        then = f"retrying in {backoff} ms ({retries_left} left)" if retries_left > 0 else "no retries left: incident"
        log.warning("%s failed, %s: %s", about, then, exc)
        JOBS.labels(job.type, "failed" if retries_left > 0 else "exhausted").inc()
        if retries_left > 0:
            await asyncio.sleep(backoff / 1000)  # here, not as an engine backoff (see the module docstring)
        await controller.set_failure_status(f"{type(exc).__name__}: {exc}"[:4000], retry_back_off_ms=0)


@dataclass(frozen=True)
class _Handler:
    function: Callable[..., BaseModel | None]
    input: type[BaseModel]
    # Parameters after the input, filled by name from the worker's dependencies (`job`: pyzeebe's Job).
    needs: tuple[str, ...]


class JobHandlers:
    """One service's job handlers: top-level functions, one per job type, bound to their dependencies at start.

        handlers = JobHandlers()

        @handlers.task("warehouse.reserve-stock")
        def reserve_stock(job: ReserveStock, sessions: Engine) -> ReserveStockResult: ...

    The first parameter's annotation is the job's input model: the variables fetched are its
    fields (by alias), and invalid input is an incident at once. Its `job_type` must be the
    decorator's, and the handler returns its `output` model (or None when it has none). A handler that
    raises one of `refusals` (its service's failures no retry can fix) raises an incident at once too.
    `router(concurrency=..., sessions=...)` builds the service's pyzeebe router.
    """

    def __init__(self, refusals: Refusals | None = None) -> None:
        self.handlers: dict[str, _Handler] = {}
        self.refusals: Refusals = refusals or {}

    @property
    def job_types(self) -> list[str]:
        return list(self.handlers)

    def input_of(self, job_type: str) -> type[BaseModel]:
        return self.handlers[job_type].input

    def task(self, job_type: str) -> Callable:
        def register(function: Callable) -> Callable:
            first, *rest = inspect.signature(function).parameters
            hints = typing.get_type_hints(function)
            input_model = hints[first]
            if getattr(input_model, "job_type", None) != job_type:
                raise TypeError(f"{function.__name__} handles {job_type!r} but its input "
                                f"{input_model.__name__} is the contract of {getattr(input_model, 'job_type', None)!r}")
            returned = hints.get("return")
            if (None if returned is type(None) else returned) is not getattr(input_model, "output", None):
                raise TypeError(f"{function.__name__} must return {getattr(input_model, 'output', None)}, "
                                f"as the contract of {job_type} says")
            if job_type in self.handlers:
                raise TypeError(f"{job_type} has two handlers")
            self.handlers[job_type] = _Handler(function, input_model, tuple(rest))
            return function

        return register

    def router(self, *, concurrency: int, **dependencies: Any) -> ZeebeTaskRouter:
        """Handlers bound to their dependencies, each job type running at most `concurrency` jobs at once."""
        router = ZeebeTaskRouter(exception_handler=on_job_failure)
        for job_type, handler in self.handlers.items():
            missing = set(handler.needs) - set(dependencies) - {"job"}
            if missing:
                raise TypeError(f"{handler.function.__name__} needs {', '.join(sorted(missing))}")
            # With the contract's variables comes the trace the order's messages started (shared.runtime.tracing).
            variables = [field.alias or name for name, field in handler.input.model_fields.items()] + [TRACEPARENT]
            router.task(job_type, variables_to_fetch=variables, timeout_ms=JOB_TIMEOUT_MS)(
                _adapter(handler, dependencies, concurrency, self.refusals))
        return router


def _adapter(handler: _Handler, dependencies: dict[str, Any], concurrency: int,
             refusals: Refusals) -> Callable[..., Awaitable[dict]]:
    """What pyzeebe calls: variables in, the handler's output as variables out, on one of the job type's threads.

    A coroutine function, so pyzeebe does not hand it to the default executor as it would a sync one.
    """
    threads = ThreadPoolExecutor(concurrency, thread_name_prefix=handler.input.job_type)

    def handle(job: Job, variables: dict[str, Any]) -> dict:
        # Checked once a thread is free, right before the work. The deadline is the broker's clock (epoch ms).
        late_seconds = time.time() - job.deadline / 1000
        if late_seconds >= 0:
            raise JobExpired(f"its deadline passed {late_seconds:.1f} s ago while it waited for one of the "
                             f"{concurrency} handlers of its type; the broker hands it out again")
        given = {name: job if name == "job" else dependencies[name] for name in handler.needs}
        traceparent = variables.pop(TRACEPARENT, None)
        started = time.perf_counter()
        try:
            # On this thread: the span is current for the handler's units of work, whose rows carry it on.
            with continued(job.type, traceparent if isinstance(traceparent, str) else None, kind=SpanKind.CONSUMER,
                           attributes={"zeebe.job.type": job.type, "zeebe.job.key": job.key,
                                       "zeebe.process_instance.key": job.process_instance_key,
                                       "fulfil.order_id": variables.get("orderId")}):
                output = handler.function(handler.input.model_validate(variables), **given)
                # One line per job done, in its order's and trace's context: `grep <order id>` shows each step.
                log.info("job %s (%s, instance %s) done in %.0f ms", job.key, job.type, job.process_instance_key,
                         (time.perf_counter() - started) * 1000)
        except Exception as error:
            reason = refusal(refusals, error)
            if reason is None:
                raise
            raise JobRejected(reason) from error
        finally:
            # Timed here, on the job type's thread: the handler's own work, not the wait for a thread.
            JOB_SECONDS.labels(job.type).observe(time.perf_counter() - started)
        JOBS.labels(job.type, "completed").inc()  # the other outcomes are counted by on_job_failure
        return output.model_dump(mode="json", by_alias=True) if output is not None else {}

    async def run(job: Job, **variables: Any) -> dict:
        # The handler's thread gets a copy of this context: the job's order for its log lines.
        with log_context(order_id=job.variables.get("orderId")):
            return await asyncio.get_running_loop().run_in_executor(threads, contextvars.copy_context().run,
                                                                    handle, job, variables)

    run.__name__ = handler.function.__name__
    # pyzeebe finds the Job parameter by its annotation object, not a string.
    run.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("job", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Job),
        inspect.Parameter("variables", inspect.Parameter.VAR_KEYWORD),
    ])
    return run


# gRPC waits up to two minutes between reconnection attempts by default; a restarted gateway
# should be in use again within seconds.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5_000),
)


def make_channel(address: str):
    return create_insecure_channel(grpc_address=address, channel_options=CHANNEL_OPTIONS)


def make_client(address: str) -> ZeebeClient:
    return ZeebeClient(make_channel(address), max_connection_retries=RETRY_FOREVER)


def build_worker(channel, name: str, router: ZeebeTaskRouter) -> ZeebeWorker:
    # Streaming: the broker pushes a job to the worker as it is created, with no activation round trip
    # per job; the worker still polls for jobs created while no stream was open (e.g. during a restart).
    worker = ZeebeWorker(channel, name=name, max_connection_retries=RETRY_FOREVER, poll_retry_delay=1,
                         stream_enabled=True)
    worker.include_router(router)
    return worker


class SupervisedWorker:
    """Runs a job worker until stopped; when it ends by itself (a gRPC error pyzeebe does not retry),
    a new channel and worker take its place after a backoff."""

    def __init__(self, address: str, name: str, router: ZeebeTaskRouter) -> None:
        self.address = address
        self.name = name
        self.router = router
        self.worker: ZeebeWorker | None = None
        self.stopping = False

    async def run(self) -> None:
        failures = FailureBackoff(f"job worker {self.name}", log, first_seconds=1, max_seconds=10)
        while not self.stopping:
            channel = make_channel(self.address)
            self.worker = build_worker(channel, self.name, self.router)
            try:
                await self.worker.work()
                if not self.stopping:
                    raise RuntimeError("the worker stopped polling")
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self.stopping:
                    await asyncio.sleep(failures.failed())
            finally:
                await channel.close()

    async def stop(self) -> None:
        self.stopping = True
        if self.worker is not None:
            await self.worker.stop()
