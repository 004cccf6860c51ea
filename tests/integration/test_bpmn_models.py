"""The BPMN files as Camunda Modeler sees them: bpmnlint with Camunda 8.6 rules, and complete diagrams."""
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tools.bootstrap import BPMN_DIR

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
DRAWN = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
         "serviceTask", "userTask", "receiveTask", "callActivity", "subProcess", "exclusiveGateway",
         "parallelGateway", "sequenceFlow", "association")
MODELS = sorted(BPMN_DIR.glob("*.bpmn"))


def test_bpmnlint_with_the_camunda_compat_rules_finds_no_problem():
    lint = BPMN_DIR / "node_modules" / ".bin" / "bpmnlint"
    assert lint.exists(), "bpmnlint is not installed: `make test` (or `make lint-bpmn`) installs it"
    result = subprocess.run([str(lint), *[m.name for m in MODELS]], cwd=BPMN_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_every_element_is_drawn(model):
    tree = ET.parse(model)
    elements = {e.get("id") for kind in DRAWN for e in tree.iter(f"{{{NS['bpmn']}}}{kind}")}
    drawn = {d.get("bpmnElement") for d in tree.iter() if d.tag in (
        f"{{{NS['bpmndi']}}}BPMNShape", f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert elements - drawn == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_the_model_declares_camunda_8_as_its_execution_platform(model):
    root = ET.parse(model).getroot()
    assert root.get("{http://camunda.org/schema/modeler/1.0}executionPlatform") == "Camunda Cloud"
