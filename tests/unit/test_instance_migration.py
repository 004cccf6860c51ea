"""The monitor's part of moving running orders to another version: what the engine's migration records change in
the projection, and when a plan cannot move an instance (no I/O)."""
from datetime import datetime, timezone

from services.monitor.domain import (
    ElementMigrated,
    IncidentMigrated,
    InstanceMigrated,
    MigrationPlan,
    UserTaskMigrated,
    changes,
    element_ids,
)
from tools.bootstrap import BPMN_DIR

AT = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
PLAN = MigrationPlan("order-fulfillment", "1.0", "1.1", {"Fulfil": "Fulfil", "AwaitStock": "AwaitStock"})


def record(value_type: str, intent: str, key: int, **value) -> dict:
    return {"partitionId": 1, "position": 7, "key": key, "timestamp": int(AT.timestamp() * 1000),
            "recordType": "EVENT", "valueType": value_type, "intent": intent,
            "value": {"processInstanceKey": 11, **value}}


def test_the_migrated_process_element_moves_the_instance_to_the_target_definition_and_version():
    found = changes(record("PROCESS_INSTANCE", "ELEMENT_MIGRATED", 11, bpmnElementType="PROCESS",
                           elementId="order-fulfillment", processDefinitionKey=99, version=8))
    assert found[0] == InstanceMigrated(key=11, definition_key=99, version=8, at=AT)


def test_a_migrated_element_incident_and_user_task_stand_at_the_target_element():
    element = changes(record("PROCESS_INSTANCE", "ELEMENT_MIGRATED", 12, bpmnElementType="RECEIVE_TASK",
                             elementId="AwaitStock2", processDefinitionKey=99, version=8))
    incident = changes(record("INCIDENT", "MIGRATED", 13, elementId="ReserveStock", processDefinitionKey=99))
    task = changes(record("USER_TASK", "MIGRATED", 14, elementId="DecideLateStock", processDefinitionKey=99,
                          assignee="", candidateGroupsList=[], candidateUsersList=[], dueDate=""))
    assert element[0] == ElementMigrated(12, 99, "AwaitStock2")
    assert incident[0] == IncidentMigrated(13, 99, "ReserveStock")
    assert task[0] == UserTaskMigrated(14, 99, "DecideLateStock")


def test_a_deployed_process_carries_its_version_tag_and_deployment():
    deployed, *_ = changes(record("PROCESS", "CREATED", 5, bpmnProcessId="p", version=3, resourceName="p.bpmn",
                                versionTag="1.1", deploymentKey=4, resource=_process_xml_base64()))
    assert (deployed.version_tag, deployed.deployment_key) == ("1.1", 4)


def test_an_instance_at_an_element_the_plan_does_not_name_is_refused_naming_it():
    assert PLAN.unmapped(["Fulfil", "AwaitStock"]) is None
    assert PLAN.unmapped(["Fulfil", "DecideLateStock"]) == "element DecideLateStock is not mapped"
    assert PLAN.unmapped(["ReserveStock", "Fulfil", "CheckAllocation"]) == \
        "elements ReserveStock, CheckAllocation are not mapped"


def test_a_plan_naming_an_element_a_version_lacks_says_which_and_where():
    assert PLAN.errors({"Fulfil", "AwaitStock"}, {"Fulfil"}) == [
        "the plan maps AwaitStock to AwaitStock, which the target version does not have"]
    assert PLAN.errors({"Fulfil"}, {"Fulfil", "AwaitStock"}) == [
        "the plan maps AwaitStock, which the source version does not have"]


def test_element_ids_are_the_flow_nodes_of_the_process_with_their_type_sub_processes_included():
    ids = element_ids((BPMN_DIR / "order-fulfillment.bpmn").read_text(), "order-fulfillment")
    assert ids["AwaitStock"] == "receiveTask" and ids["Fulfil"] == "subProcess"
    assert ids["StopRequested"] == "startEvent"
    assert not any(i.startswith("Flow_") for i in ids), "sequence flows are not flow nodes"


def _process_xml_base64() -> str:
    import base64
    xml = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" name="P">'
           '<startEvent id="s"/></process></definitions>')
    return base64.b64encode(xml.encode()).decode()
