"""`fulfil process deploy | versions` on the running stack: the repo's processes pass the checks, the versions show
what runs on them, and a running version whose job type no service handles stops a deployment."""
from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from shared.runtime.zeebe import make_client
from tests.conftest import eventually
from tools import bootstrap, bpmn_checks
from tools.process_deployment import lint_problems

# A process of the test's own whose one job no service handles: its instance waits there until cancelled.
PROBE = "process-deployment-probe"
PROBE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Probe"
                  targetNamespace="http://fulfilment-suite/tests">
  <bpmn:process id="{process}" name="Waits for a job nobody handles (deployment test)" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>ToWork</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="ToWork" sourceRef="Start" targetRef="Work" />
    <bpmn:serviceTask id="Work">
      <bpmn:extensionElements><zeebe:taskDefinition type="{job_type}" retries="3" /></bpmn:extensionElements>
      <bpmn:incoming>ToWork</bpmn:incoming><bpmn:outgoing>ToEnd</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="ToEnd" sourceRef="Work" targetRef="End" />
    <bpmn:endEvent id="End"><bpmn:incoming>ToEnd</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def fulfil(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def version_line(output: str, process_id: str, version: int) -> list[str]:
    """The columns `fulfil process versions` prints for one version (empty when it is not listed)."""
    for line in output.splitlines():
        columns = line.split()
        if columns[:2] == [process_id, str(version)]:
            return columns
    return []


@pytest.fixture
def probe_instance(stack, camunda_api, tmp_path):
    """A running instance of the probe, on a version of its own; cancelled through the engine's REST API after."""
    job_type = f"order.retired-{uuid.uuid4().hex[:8]}"  # an Order service job type whose handler is gone
    model = tmp_path / f"{PROBE}.bpmn"
    model.write_text(PROBE_BPMN.format(process=PROBE, job_type=job_type))
    version = bootstrap.deploy_bpmn(stack.zeebe_address, files=[str(model)])[PROBE]

    async def start() -> int:
        return (await make_client(stack.zeebe_address).run_process(PROBE)).process_instance_key
    key = asyncio.run(start())
    yield version, job_type
    cancelled = camunda_api.post(f"/v2/process-instances/{key}/cancellation")
    assert cancelled.status_code == 204, cancelled.text


def test_a_dry_run_of_the_repo_lints_and_checks_it_and_deploys_nothing(stack):
    checked = fulfil("process", "deploy", "--dry-run")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "lint: ok" in checked.stdout and "contracts, links and handlers: ok" in checked.stdout
    assert "nothing deployed" in checked.stdout.splitlines()[-1]


def test_deploying_the_repo_prints_each_resource_version_the_engine_gave(stack):
    deployed = fulfil("process", "deploy")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    printed = dict(re.findall(r"^ +(\S+) +version (\d+)$", deployed.stdout, re.MULTILINE))
    # Unchanged since, the same files deploy as a duplicate: the engine answers with the versions it has.
    expected = bootstrap.deploy_bpmn(stack.zeebe_address)
    assert {name: int(v) for name, v in printed.items()} == expected


def test_versions_lists_each_deployed_version_with_its_tag_and_running_instances(stack, probe_instance):
    version, _ = probe_instance
    repo = bootstrap.deploy_bpmn(stack.zeebe_address)
    tag = bpmn_checks.version_tag_of(ET.parse(bootstrap.BPMN_DIR / "order-fulfillment.bpmn").getroot(),
                                     "order-fulfillment")

    def listed():
        output = fulfil("process", "versions").stdout
        probe = version_line(output, PROBE, version)
        return probe and probe[-2] == "1" and output
    output = eventually(listed, timeout=30, interval=1, what=f"{PROBE} version {version} listed with 1 running")
    fulfilment = version_line(output, "order-fulfillment", repo["order-fulfillment"])
    assert fulfilment[2] == tag and fulfilment[-2].isdigit() and fulfilment[-1].isdigit()
    mine = [line.split()[1] for line in output.splitlines() if line.startswith(PROBE + " ")]
    assert mine == sorted(mine, key=int, reverse=True)  # newest first


def test_a_running_version_whose_job_type_no_service_handles_stops_the_deployment_naming_it(stack, probe_instance):
    version, job_type = probe_instance
    problem = (f"{PROBE} version {version} has 1 running instance(s) that need job type {job_type}, "
               "which no service handles")

    def refused():
        run = fulfil("process", "deploy", "--dry-run")
        return problem in run.stderr and run
    dry = eventually(refused, timeout=30, interval=1, what="the dry run to refuse the probe's running version")
    assert dry.returncode == 2 and "refused, nothing deployed" in dry.stderr
    real = fulfil("process", "deploy")
    assert real.returncode == 2 and problem in real.stderr and "deployed " not in real.stdout


def test_the_lint_names_each_file_element_and_rule_camunda_modeler_would_complain_about(tmp_path):
    model = tmp_path / "unfinished.bpmn"
    model.write_text(PROBE_BPMN.format(process=PROBE, job_type=""))  # a service task without a job type
    problems = lint_problems([str(model)])
    assert "unfinished.bpmn: bpmnlint: Work error Element of type <zeebe:TaskDefinition> must have property <type> " \
           "camunda-compat/implementation" in problems
    assert all(p.startswith("unfinished.bpmn: bpmnlint: ") and "✖" not in p for p in problems)
