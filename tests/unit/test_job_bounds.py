"""Job handling is bounded: a limit per job type, threads of its own, and no job run after its deadline.

The jobs go through pyzeebe's own JobExecutor the way a job stream hands them over: all at once, onto its
queue, a task each. Only the gateway is faked.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from prometheus_client import REGISTRY
from pyzeebe import Job
from pyzeebe.worker.job_executor import JobExecutor
from pyzeebe.worker.task_state import TaskState

from services.delivery.workers import handlers as delivery_handlers
from services.order.workers import handlers as order_handlers
from services.warehouse.workers import handlers as warehouse_handlers
from shared.runtime.db import POOL_OVERFLOW, POOL_SIZE
from shared.runtime.settings import ServiceSettings
from tests.unit.job_probe import Probe, probed_handlers

JOB_TYPE = "test.slow-step"


handlers = probed_handlers(JOB_TYPE)


class Gateway:
    """Stands in for pyzeebe's ZeebeAdapter: what the worker told the engine about each job."""

    def __init__(self) -> None:
        self.completed: list[int] = []
        self.failed: list[int] = []

    async def complete_job(self, job_key: int, variables: dict) -> None:
        self.completed.append(job_key)

    async def fail_job(self, job_key: int, **_) -> None:
        self.failed.append(job_key)

    async def throw_error(self, job_key: int, **_) -> None:
        self.failed.append(job_key)


def pushed_job(key: int, deadline_in_seconds: float = 60) -> Job:
    return Job(key=key, type=JOB_TYPE, process_instance_key=key, bpmn_process_id="test", process_definition_version=1,
               process_definition_key=1, element_id="Step", element_instance_key=key, custom_headers={},
               worker="test-worker", retries=3, deadline=int((time.time() + deadline_in_seconds) * 1000),
               variables={"orderId": f"order-{key}"})


@asynccontextmanager
async def executing(jobs: list[Job], probe: Probe, gateway: Gateway, limit: int) -> AsyncIterator[None]:
    """pyzeebe's JobExecutor runs the jobs while the block does; on leaving, every job has been handled."""
    [task] = handlers.router(concurrency=limit, probe=probe).tasks
    queue: asyncio.Queue[Job] = asyncio.Queue()
    state = TaskState()
    for job in jobs:
        state.add(job)
        queue.put_nowait(job)
    executor = asyncio.create_task(JobExecutor(task, queue, state, gateway).execute())
    try:
        yield
        await asyncio.wait_for(queue.join(), 10)
    finally:
        probe.release.set()
        executor.cancel()


def with_default_executor(threads: int, main) -> None:
    """Runs `main` on a loop whose default executor (asyncio.to_thread's) has this many threads, not the machine's
    own number."""
    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(threads))
        await main()
    asyncio.run(run())


def test_no_more_jobs_of_one_type_run_at_once_than_its_limit():
    probe, gateway = Probe(hold_seconds=0.05), Gateway()
    jobs = [pushed_job(key) for key in range(1, 13)]

    async def main() -> None:
        async with executing(jobs, probe, gateway, limit=3):
            pass

    with_default_executor(16, main)
    assert probe.most_at_once == 3
    assert sorted(gateway.completed) == [job.key for job in jobs]


def test_a_job_whose_deadline_passed_while_it_waited_for_its_turn_is_dropped_not_run(caplog):
    probe, gateway = Probe(hold_seconds=0.3), Gateway()
    first, late = pushed_job(1), pushed_job(2, deadline_in_seconds=0.1)
    expired = {"job_type": JOB_TYPE, "outcome": "expired"}
    expired_before = REGISTRY.get_sample_value("fulfil_jobs_total", expired) or 0

    async def main() -> None:
        async with executing([first, late], probe, gateway, limit=1):
            pass

    with caplog.at_level(logging.WARNING, logger="shared.runtime.zeebe"):
        with_default_executor(16, main)
    assert probe.ran == ["order-1"]
    # Nothing is said to the engine about the late job: it is the broker's again since its deadline.
    assert (gateway.completed, gateway.failed) == ([first.key], [])
    assert any(f"job {late.key} " in r.getMessage() and "deadline" in r.getMessage() for r in caplog.records)
    assert REGISTRY.get_sample_value("fulfil_jobs_total", expired) == expired_before + 1


def test_handlers_at_their_limit_leave_the_default_executor_to_readiness_and_other_threads():
    probe, gateway = Probe(hold_seconds=10), Gateway()
    jobs = [pushed_job(key) for key in range(1, 5)]

    async def main() -> None:
        async with executing(jobs, probe, gateway, limit=4):
            started = time.monotonic()
            while probe.running < len(jobs) and time.monotonic() - started < 1:
                await asyncio.sleep(0.01)
            # What /ready does: a check on a thread of the default executor.
            answer = await asyncio.wait_for(asyncio.to_thread(lambda: "answered"), 2)
            assert (answer, probe.running) == ("answered", len(jobs))
            probe.release.set()

    with_default_executor(2, main)
    assert sorted(gateway.completed) == [job.key for job in jobs]


def test_the_busiest_service_with_every_job_type_at_its_limit_leaves_database_connections_for_the_rest():
    busiest = max(len(h.job_types) for h in (order_handlers, warehouse_handlers, delivery_handlers))
    per_type = ServiceSettings.model_fields["job_concurrency"].default
    # HTTP requests, the consumer, the relay lanes and readiness take connections from the same pool.
    assert busiest * per_type < POOL_SIZE + POOL_OVERFLOW
