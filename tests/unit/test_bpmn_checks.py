"""The checks `fulfil process deploy` runs refuse what would break a deployment, and say what and how to fix it."""
import json
from pathlib import Path

import pytest

from tools import bpmn_checks
from tools.bootstrap import bpmn_files
from tools.bpmn_checks import Resources, RunningVersion

REPO = Resources.read(bpmn_files())
HANDLERS = bpmn_checks.handlers_by_job_type()
PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="probe" targetNamespace="http://x">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:serviceTask id="Work">
      <bpmn:extensionElements><zeebe:taskDefinition type="{job_type}" retries="3" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    {extra}
  </bpmn:process>
</bpmn:definitions>
"""


def probe(tmp_path: Path, job_type: str = "order.probe", extra: str = "", **files: str) -> Resources:
    (tmp_path / "probe.bpmn").write_text(PROBE.format(job_type=job_type, extra=extra))
    for name, text in files.items():
        (tmp_path / name.replace("_", ".")).write_text(text)
    return Resources.read(sorted(tmp_path.iterdir()))


def test_a_job_type_nobody_handles_is_refused_by_name_with_where_to_add_its_handler(tmp_path):
    problems = bpmn_checks.handler_problems(probe(tmp_path, "warehouse.count-the-moon"), HANDLERS)
    assert problems == ["probe.bpmn: job type warehouse.count-the-moon has no handler: add "
                        "@handlers.task('warehouse.count-the-moon') to services/warehouse/workers.py"]


def test_a_job_type_without_a_contract_is_refused(tmp_path):
    problems = bpmn_checks.contract_problems(probe(tmp_path, "order.probe"))
    assert any(p.startswith("probe.bpmn: job type order.probe has no contract") for p in problems), problems


def test_a_job_type_handled_by_another_service_than_it_names_is_refused(tmp_path):
    job_type = next(iter(REPO.job_types()))
    misnamed = {job_type: ["delivery" if not job_type.startswith("delivery") else "order"]}
    [problem] = bpmn_checks.handler_problems(probe(tmp_path, job_type), misnamed)
    assert f"job type {job_type} is handled by" in problem


def test_a_running_version_that_needs_a_retired_job_type_is_refused_naming_process_version_count_and_job_type():
    running = [RunningVersion("order-fulfillment", 3, 12, frozenset({"order.retired-step", *HANDLERS})),
               RunningVersion("order-fulfillment", 4, 0, frozenset({"order.other-retired-step"})),
               RunningVersion("order-shipment", 2, 5, frozenset(HANDLERS))]
    assert bpmn_checks.running_version_problems(running, HANDLERS) == [
        "order-fulfillment version 3 has 12 running instance(s) that need job type order.retired-step, which no "
        "service handles: keep its handler until they finish, or move them to a newer version "
        "(fulfil process migrate order-fulfillment --from 3 --to N)"]


def test_a_called_decision_or_form_that_is_not_deployed_with_the_process_is_refused(tmp_path):
    extra = """<bpmn:businessRuleTask id="Rules"><bpmn:extensionElements>
        <zeebe:calledDecision decisionId="no-such-rules" resultVariable="verdict" bindingType="deployment" />
      </bpmn:extensionElements></bpmn:businessRuleTask>
      <bpmn:userTask id="Ask"><bpmn:extensionElements>
        <zeebe:formDefinition formId="no-such-form" bindingType="deployment" />
      </bpmn:extensionElements></bpmn:userTask>"""
    form = json.dumps({"id": "some-form", "components": []})
    problems = bpmn_checks.link_problems(probe(tmp_path, extra=extra, some_form=form))
    assert [p.split(" is not ")[0] for p in problems] == [
        "probe.bpmn: calledDecision decisionId='no-such-rules'", "probe.bpmn: formDefinition formId='no-such-form'"]
    assert "deployed: some-form" in problems[1]


def test_a_decision_and_form_deployed_with_the_process_resolve_and_their_variables_count_as_set(tmp_path):
    extra = """<bpmn:businessRuleTask id="Rules"><bpmn:extensionElements>
        <zeebe:calledDecision decisionId="rules" resultVariable="verdict" bindingType="deployment" />
      </bpmn:extensionElements></bpmn:businessRuleTask>"""
    dmn = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
      <decision id="rules"><decisionTable><input><inputExpression><text>totalUnits</text></inputExpression></input>
      </decisionTable></decision></definitions>"""
    form = json.dumps({"id": "f", "components": [{"type": "group", "components": [{"key": "note"}]}]})
    resources = probe(tmp_path, extra=extra, rules_dmn=dmn, f_form=form)
    assert bpmn_checks.link_problems(resources) == []
    assert {"verdict", "note"} <= bpmn_checks.variables_available(resources)
    assert resources.variables_read().get("totalUnits") == "rules.dmn"


def test_an_expression_reading_a_variable_nobody_sets_is_refused_naming_it(tmp_path):
    extra = """<bpmn:sequenceFlow id="F" sourceRef="Start" targetRef="Work">
      <bpmn:conditionExpression>=mystery &gt; 1 and orderId != "x"</bpmn:conditionExpression></bpmn:sequenceFlow>"""
    problems = bpmn_checks.contract_problems(probe(tmp_path, extra=extra))
    assert "probe.bpmn: an expression reads mystery, which no contract, mapping or form sets" in problems
    assert not any("orderId" in p for p in problems)


def test_feel_names_skip_strings_path_steps_functions_and_keywords():
    assert bpmn_checks.feel_names('=if count(items) > 1 then review.outcome = "a b" else not(x)') == {
        "items", "review", "x"}
    assert bpmn_checks.feel_names('=date and time(now() + duration(decisionDeadline), "Z")') == {"decisionDeadline"}
    assert bpmn_checks.feel_names("PT5M") == set()


def test_a_deployed_process_xml_gives_its_version_tag_called_processes_and_job_types():
    [fulfilment] = [root for name, root in REPO.processes.items() if name == "order-fulfillment.bpmn"]
    assert bpmn_checks.version_tag_of(fulfilment, "order-fulfillment")
    assert ("order-shipment", "deployment") in bpmn_checks.called_processes_of(fulfilment)
    assert bpmn_checks.job_types_of(fulfilment) and bpmn_checks.job_types_of(fulfilment) <= set(HANDLERS)


def test_a_file_that_is_not_well_formed_is_refused_naming_it(tmp_path):
    (tmp_path / "broken.bpmn").write_text("<bpmn:definitions")
    with pytest.raises(bpmn_checks.UnreadableResource, match="broken.bpmn cannot be read"):
        Resources.read([tmp_path / "broken.bpmn"])
