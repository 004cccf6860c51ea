"""Zeebe worker runtime on pyzeebe: retry with exponential backoff, then an incident Operate shows.

Job types are retried JOB_RETRIES times (set in the BPMN), waiting 200 ms, 400 ms, ... up to 30 s.
A job whose input can never succeed fails with no retries left at once, so the incident appears
immediately with a message that says what is wrong.
"""
from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError
from pyzeebe import Job, JobController, ZeebeClient, ZeebeTaskRouter, ZeebeWorker, create_insecure_channel

from shared.backoff import exponential

log = logging.getLogger(__name__)

JOB_RETRIES = 7
FIRST_BACKOFF_MS = 200
MAX_BACKOFF_MS = 30_000
BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"


class JobRejected(Exception):
    """The job's input is wrong; retrying cannot help, so it becomes an incident straight away."""


class BusinessError(Exception):
    """An outcome the process models as a BPMN error event (caught by a boundary event)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def required(value, name: str):
    """A job variable the handler cannot do without; its absence is an incident, not a retry."""
    if value is None or value == "":
        raise JobRejected(f"variable {name} is missing")
    return value


def retry_backoff_ms(retries_left: int, total: int = JOB_RETRIES) -> int:
    """Delay before the next attempt, given the retries that remain after this failure."""
    return int(exponential(total - retries_left, FIRST_BACKOFF_MS, MAX_BACKOFF_MS))


def make_channel(address: str):
    return create_insecure_channel(grpc_address=address)


def make_client(address: str) -> ZeebeClient:
    return ZeebeClient(make_channel(address))


def build_worker(channel, name: str, *routers: ZeebeTaskRouter) -> ZeebeWorker:
    worker = ZeebeWorker(channel, name=name, max_connection_retries=-1, poll_retry_delay=1)

    async def on_exception(exc: Exception, job: Job, controller: JobController) -> None:
        # The order id and instance key are what an operator greps for when an order is stuck.
        about = f"job {job.key} ({job.type}, order {job.variables.get('orderId', '?')}, " \
                f"instance {job.process_instance_key})"
        if isinstance(exc, BusinessError):
            log.info("%s throws BPMN error %s: %s", about, exc.code, exc)
            await controller.set_error_status(str(exc), error_code=exc.code)
        elif isinstance(exc, (JobRejected, ValidationError)):
            message = f"{job.type}: {exc}"
            log.warning("%s rejected, raising an incident: %s", about, message)
            await worker.zeebe_adapter.fail_job(job_key=job.key, retries=0, message=message[:4000],
                                                retry_back_off_ms=0, variables={})
        else:
            retries_left = job.retries - 1
            backoff = retry_backoff_ms(retries_left)
            then = f"retrying in {backoff} ms ({retries_left} left)" if retries_left > 0 else "no retries left: incident"
            log.warning("%s failed, %s: %s", about, then, exc)
            await controller.set_failure_status(f"{type(exc).__name__}: {exc}"[:4000], retry_back_off_ms=backoff)

    for router in routers:
        for task in router.tasks:
            task.config.exception_handler = on_exception
        worker.include_router(router)
    return worker


async def deploy_processes(client: ZeebeClient, directory: Path = BPMN_DIR) -> list[str]:
    """Deploys the processes and the forms their user tasks link to."""
    files = sorted(str(p) for pattern in ("*.bpmn", "*.form") for p in directory.glob(pattern))
    if files:
        await client.deploy_resource(*files)
    return files
