"""The process monitor's projection: what each engine record changes, from records of a real run."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from services.monitor.domain import (
    FORMS,
    DefinitionDeployed,
    ElementEntered,
    ElementLeft,
    FlowTaken,
    IncidentOpened,
    IncidentResolved,
    InstanceEnded,
    InstanceStarted,
    InstanceState,
    InvalidRecord,
    OrderIdentified,
    Position,
    Progress,
    TaskState,
    UserTaskClosed,
    UserTaskOpened,
    VariableSet,
    changes,
    form_of,
    idle_seconds,
    position_of,
    read_record,
)
from shared.contracts.process import DECISION_FORM, DECISIONS, REVIEW_FORM
from tests.unit.monitor_records import (
    COMPLETED_INSTANCE,
    COMPLETED_ORDER,
    FAILED_INSTANCE,
    FAILED_ORDER,
    FULFILMENT_DEFINITION,
    LATE_INSTANCE,
    LATE_ORDER,
    SHIPMENT_INSTANCE,
    engine_records,
    of_instance,
)
from tools.bootstrap import BPMN_DIR


def all_changes(records: list[dict]) -> list:
    return [change for record in records for change in changes(record)]


def of_type(found: list, kind: type) -> list:
    return [c for c in found if isinstance(c, kind)]


def test_a_deployed_process_gives_its_definition_with_its_diagram_and_the_forms_of_its_user_tasks():
    deployed = of_type(all_changes(engine_records()), DefinitionDeployed)
    assert {(d.bpmn_process_id, d.version) for d in deployed} == {("order-fulfillment", 1), ("order-shipment", 1)}
    fulfilment = next(d for d in deployed if d.bpmn_process_id == "order-fulfillment")
    assert fulfilment.key == FULFILMENT_DEFINITION
    assert fulfilment.bpmn_xml == (BPMN_DIR / "order-fulfillment.bpmn").read_text()
    assert fulfilment.forms == {"DecideLateStock": DECISION_FORM, "ReviewOrder": REVIEW_FORM}
    assert fulfilment.name == "Order fulfilment"


def test_an_instance_starts_with_its_process_element_and_a_called_one_names_its_caller():
    started = {c.key: c for c in of_type(all_changes(engine_records()), InstanceStarted)}
    assert set(started) == {COMPLETED_INSTANCE, SHIPMENT_INSTANCE, FAILED_INSTANCE, LATE_INSTANCE}
    assert started[COMPLETED_INSTANCE].parent_key is None
    assert started[SHIPMENT_INSTANCE].parent_key == COMPLETED_INSTANCE
    assert started[SHIPMENT_INSTANCE].bpmn_process_id == "order-shipment"
    assert started[COMPLETED_INSTANCE].definition_key == FULFILMENT_DEFINITION


def test_each_instance_ends_completed_or_terminated_as_it_did_in_the_engine():
    ended = {c.key: c.state for c in of_type(all_changes(engine_records()), InstanceEnded)}
    assert ended == {COMPLETED_INSTANCE: InstanceState.COMPLETED, SHIPMENT_INSTANCE: InstanceState.COMPLETED,
                     FAILED_INSTANCE: InstanceState.TERMINATED, LATE_INSTANCE: InstanceState.COMPLETED}


def test_every_element_a_completed_instance_entered_it_left_and_its_path_is_in_order():
    found = all_changes(of_instance(COMPLETED_INSTANCE))
    entered = {c.key: c.element_id for c in of_type(found, ElementEntered)}
    left = {c.key: c.state for c in of_type(found, ElementLeft)}
    assert set(entered) == set(left), "nothing is left active in a completed instance"
    path = [entered[c.key] for c in of_type(found, ElementLeft) if c.state == InstanceState.COMPLETED]
    assert path.index("ReserveStock") < path.index("CompleteOrder")
    assert "ShipAvailable" in path
    flows = [c.element_id for c in of_type(found, FlowTaken)]
    assert flows[0] == "Flow_ToFulfil" and len(flows) == len(set(flows))


def test_the_order_id_at_the_top_scope_identifies_the_instance_and_a_local_copy_does_not():
    found = of_type(all_changes(engine_records()), OrderIdentified)
    assert sorted((c.instance_key, c.order_id) for c in found) == sorted([
        (COMPLETED_INSTANCE, COMPLETED_ORDER), (SHIPMENT_INSTANCE, COMPLETED_ORDER),
        (FAILED_INSTANCE, FAILED_ORDER), (LATE_INSTANCE, LATE_ORDER)])
    copies = [c for c in of_type(all_changes(of_instance(COMPLETED_INSTANCE)), VariableSet)
              if c.name == "orderId" and c.scope_key != COMPLETED_INSTANCE]
    assert copies, "the run has a local copy of orderId in a sub-scope"


def test_an_incident_opens_with_the_jobs_message_and_resolves_and_a_retry_without_a_fix_opens_another():
    found = all_changes(of_instance(FAILED_INSTANCE))
    opened = of_type(found, IncidentOpened)
    assert [(i.element_id, i.error_type, i.message) for i in opened] == [
        ("ReserveStock", "JOB_NO_RETRIES", "warehouse.reserve-stock: unknown sku: NO-SUCH-SKU")] * 2
    assert opened[0].job_key == opened[1].job_key and opened[0].job_key > 0
    assert [c.key for c in of_type(found, IncidentResolved)] == [i.key for i in opened]


def test_a_user_task_says_who_may_do_it_and_closes_when_a_person_completes_it():
    found = all_changes(of_instance(LATE_INSTANCE))
    [task] = of_type(found, UserTaskOpened)
    assert (task.element_id, task.candidate_groups, task.candidate_users, task.assignee) == (
        "DecideLateStock", ["fulfilment-team"], [], None)
    assert [(c.key, c.state) for c in of_type(found, UserTaskClosed)] == [(task.key, TaskState.COMPLETED)]


def test_every_record_about_an_instance_is_progress_at_its_time():
    records = of_instance(LATE_INSTANCE)
    progress = of_type(all_changes(records), Progress)
    assert len(progress) == len(records)
    assert {p.instance_key for p in progress} == {LATE_INSTANCE}
    assert progress[-1].at == datetime.fromtimestamp(records[-1]["timestamp"] / 1000, timezone.utc)


def test_records_the_monitor_does_not_show_change_nothing():
    record = next(r for r in engine_records() if r["valueType"] == "MESSAGE")
    assert changes(record) == []
    activating = next(r for r in engine_records() if r["intent"] == "ELEMENT_ACTIVATING")
    assert changes({**activating, "recordType": "COMMAND"}) == []
    assert changes({**activating, "valueType": "DECISION_EVALUATION"}) == []


def test_a_record_that_is_not_an_engine_record_is_refused_with_the_reason():
    with pytest.raises(InvalidRecord, match="not JSON"):
        read_record(b"plain text")
    with pytest.raises(InvalidRecord, match="no position"):
        read_record(json.dumps({"partitionId": 1, "key": 1}).encode())
    incident = next(r for r in engine_records() if r["valueType"] == "INCIDENT")
    del incident["value"]["errorMessage"]
    with pytest.raises(InvalidRecord, match="INCIDENT CREATED record 2251799813685365 has no errorMessage"):
        changes(incident)
    process = next(r for r in engine_records() if r["valueType"] == "PROCESS")
    process["value"]["resource"] = "not base64!"
    with pytest.raises(InvalidRecord, match="base64"):
        changes(process)


def test_a_record_read_back_keeps_its_partition_and_position():
    record = engine_records()[10]
    assert position_of(read_record(json.dumps(record).encode())) == Position(record["partitionId"],
                                                                            record["position"])


def test_the_decision_form_takes_exactly_its_choices():
    form = form_of({"DecideLateStock": DECISION_FORM}, "DecideLateStock")
    assert form is FORMS[DECISION_FORM]
    assert [form.answer({"decision": choice}) for choice in DECISIONS] == [{"decision": d} for d in DECISIONS]
    with pytest.raises(ValueError, match="decision must be one of continue, cancel, not 'maybe'"):
        form.answer({"decision": "maybe"})
    with pytest.raises(ValueError, match="sets exactly one variable, decision"):
        form.answer({"decision": "continue", "other": "x"})
    assert form_of(None, "DecideLateStock") is None
    assert form_of({"Other": "some-form"}, "Other") is None


def test_idle_time_never_goes_below_zero_when_the_engine_clock_is_ahead():
    now = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    assert idle_seconds(datetime(2026, 1, 1, 11, 59, tzinfo=timezone.utc), now) == 60
    assert idle_seconds(datetime(2026, 1, 3, tzinfo=timezone.utc), now) == 0
