"""A job worker on the real engine runs no more jobs of one type at once than its limit, the rest in turn."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from shared.runtime.zeebe import build_worker, make_channel, make_client
from tests.unit.job_probe import Probe, probed_handlers

# Its own job type each run, so no job left over by an earlier run reaches this worker.
JOB_TYPE = f"test.bounded-{uuid.uuid4().hex[:8]}"
PROCESS = "test-bounded-jobs"
BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="BoundedJobs"
                  targetNamespace="http://fulfilment-suite/tests">
  <bpmn:process id="{PROCESS}" name="One slow job (job bounds test)" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>ToStep</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="ToStep" sourceRef="Start" targetRef="Step" />
    <bpmn:serviceTask id="Step">
      <bpmn:extensionElements><zeebe:taskDefinition type="{JOB_TYPE}" /></bpmn:extensionElements>
      <bpmn:incoming>ToStep</bpmn:incoming><bpmn:outgoing>ToEnd</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="ToEnd" sourceRef="Step" targetRef="End" />
    <bpmn:endEvent id="End"><bpmn:incoming>ToEnd</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


handlers = probed_handlers(JOB_TYPE)


def test_a_streaming_worker_runs_at_most_its_limit_of_one_job_type_at_once_and_every_job_in_the_end(
        stack, tmp_path: Path):
    model = tmp_path / f"{PROCESS}.bpmn"
    model.write_text(BPMN)
    probe = Probe(hold_seconds=0.3)
    orders = [f"bounded-{n}" for n in range(8)]

    async def main() -> None:
        client = make_client(stack.zeebe_address)
        await client.deploy_resource(str(model))
        channel = make_channel(stack.zeebe_address)
        worker = build_worker(channel, "bounds-test-worker", handlers.router(concurrency=2, probe=probe))
        working = asyncio.create_task(worker.work())
        try:
            await asyncio.gather(*(client.run_process_with_result(PROCESS, {"orderId": order}, timeout=30_000)
                                   for order in orders))
        finally:
            await worker.stop()
            await asyncio.wait_for(working, 10)
            await channel.close()

    asyncio.run(main())
    assert sorted(probe.ran) == orders
    assert probe.most_at_once == 2
