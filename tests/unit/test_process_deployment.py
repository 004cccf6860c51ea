"""What `fulfil process deploy` counts as still needed: the job types of running versions and of the versions they
call, read from the monitor's definitions (plain data here)."""
from pathlib import Path

from tools import bpmn_checks
from tools.process_deployment import DeployedVersions, lint_problems

ROOT = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"><bpmn:process id="root">
  <bpmn:extensionElements><zeebe:versionTag value="{tag}" /></bpmn:extensionElements>
  <bpmn:serviceTask id="A"><bpmn:extensionElements><zeebe:taskDefinition type="order.{step}" />
  </bpmn:extensionElements></bpmn:serviceTask>
  <bpmn:callActivity id="Call"><bpmn:extensionElements>
    <zeebe:calledElement processId="child" {binding} /></bpmn:extensionElements></bpmn:callActivity>
</bpmn:process></bpmn:definitions>"""
CHILD = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"><bpmn:process id="child">
  <bpmn:serviceTask id="B"><bpmn:extensionElements><zeebe:taskDefinition type="delivery.{step}" />
  </bpmn:extensionElements></bpmn:serviceTask>
</bpmn:process></bpmn:definitions>"""


def definition(key: int, process: str, version: int, at: str, running: int = 0) -> dict:
    return {"key": key, "bpmn_process_id": process, "version": version, "deployed_at": f"2026-01-0{at}T10:00:00Z",
            "active_instances": running, "open_incidents": 0}


def deployments(binding: str = 'bindingType="deployment"') -> DeployedVersions:
    """Two deployments of root and child; only the first root version has running instances, none of child."""
    xml = {1: ROOT.format(tag="1.0", step="old-step", binding=binding), 2: CHILD.format(step="retired-step"),
           3: ROOT.format(tag="1.1", step="new-step", binding=binding), 4: CHILD.format(step="new-step")}
    return DeployedVersions([definition(1, "root", 1, "1", running=2), definition(2, "child", 1, "1"),
                             definition(3, "root", 2, "2"), definition(4, "child", 2, "2")], xml.__getitem__)


def test_a_running_version_needs_the_job_types_of_the_called_version_deployed_with_it():
    [running] = deployments().running()
    assert (running.process_id, running.version, running.running) == ("root", 1, 2)
    assert running.job_types == {"order.old-step", "delivery.retired-step"}
    [problem] = bpmn_checks.running_version_problems([running], {"order.old-step": ["order"]})
    assert problem.startswith("root version 1 has 2 running instance(s) that need job type delivery.retired-step")


def test_a_call_bound_to_the_latest_version_needs_the_newest_called_version_instead():
    [running] = deployments(binding="").running()
    assert running.job_types == {"order.old-step", "delivery.new-step"}


def test_the_version_tag_is_read_from_the_xml_unless_the_monitor_gives_it():
    deployed = deployments()
    assert deployed.version_tag(deployed.definitions[2]) == "1.1"
    assert deployed.version_tag({**deployed.definitions[2], "version_tag": "1.2"}) == "1.2"


def test_without_bpmnlint_installed_the_lint_says_how_to_install_it(tmp_path):
    [problem] = lint_problems(["x.bpmn"], bpmnlint=Path(tmp_path) / "bpmnlint")
    assert "bpmnlint is not installed" in problem and "make lint-bpmn" in problem
