"""What one engine record says happened, as plain changes to apply: no Kafka, SQL or HTTP here.

A record is Zeebe's own JSON (`Record.toJson()`), as the broker's exporter publishes it. Only events
count (a command may still be rejected); value types and intents the monitor does not show give no change.
"""
from __future__ import annotations

import base64
import binascii
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from shared.contracts.process import (
    DECISION_CHOICES,
    DECISION_FORM,
    DECISION_VARIABLE,
    ORDER_ID_VARIABLE,
    REVIEW_CHOICES,
    REVIEW_FORM,
    REVIEW_NOTE_VARIABLE,
    REVIEW_VARIABLE,
)


class InvalidRecord(ValueError):
    """Not an engine record the monitor can read; it is dead-lettered with this reason."""


class InstanceState(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"


class IncidentState(StrEnum):
    ACTIVE = "ACTIVE"
    RESOLVED = "RESOLVED"


class TaskState(StrEnum):
    CREATED = "CREATED"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


@dataclass(frozen=True)
class Position:
    """Where a record stands in the engine: its partition's log, in which positions only grow."""

    partition: int
    position: int


@dataclass(frozen=True)
class DefinitionDeployed:
    key: int
    bpmn_process_id: str
    version: int
    name: str | None
    resource_name: str
    bpmn_xml: str
    # The linked form of each user task, by element id.
    forms: dict[str, str]
    at: datetime
    # Its zeebe:versionTag, and the deployment it came in (the resources it calls with bindingType="deployment").
    version_tag: str | None = None
    deployment_key: int | None = None


@dataclass(frozen=True)
class InstanceStarted:
    key: int
    definition_key: int
    bpmn_process_id: str
    version: int
    parent_key: int | None
    at: datetime


@dataclass(frozen=True)
class InstanceEnded:
    key: int
    state: InstanceState
    at: datetime


@dataclass(frozen=True)
class ElementEntered:
    key: int
    instance_key: int
    definition_key: int
    element_id: str
    element_type: str
    at: datetime
    # The element instance it runs inside (the process, a sub-process): where to start it again.
    flow_scope_key: int | None = None


@dataclass(frozen=True)
class InstanceMigrated:
    """The engine moved a running instance to another definition (a process instance migration)."""

    key: int
    definition_key: int
    version: int
    at: datetime


@dataclass(frozen=True)
class ElementMigrated:
    """An element instance, incident or user task of a migrated instance now stands at this element of the target."""

    key: int
    definition_key: int
    element_id: str


@dataclass(frozen=True)
class IncidentMigrated(ElementMigrated):
    pass


@dataclass(frozen=True)
class UserTaskMigrated(ElementMigrated):
    pass


@dataclass(frozen=True)
class ElementLeft:
    key: int
    state: InstanceState
    at: datetime


@dataclass(frozen=True)
class FlowTaken:
    key: int
    instance_key: int
    element_id: str
    at: datetime


@dataclass(frozen=True)
class _AtAnElement:
    """An incident or a user task: where in which instance it stands."""

    key: int
    instance_key: int
    definition_key: int
    element_id: str
    element_instance_key: int


@dataclass(frozen=True)
class _TaskPeople:
    """Who may or must work on a user task, and by when."""

    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    due_date: str | None


@dataclass(frozen=True)
class IncidentOpened(_AtAnElement):
    error_type: str
    message: str
    job_key: int | None
    at: datetime


@dataclass(frozen=True)
class IncidentResolved:
    key: int
    at: datetime


@dataclass(frozen=True)
class UserTaskOpened(_TaskPeople, _AtAnElement):
    at: datetime


@dataclass(frozen=True)
class UserTaskChanged(_TaskPeople):
    """Assigned, or its candidates or dates updated."""

    key: int


@dataclass(frozen=True)
class UserTaskClosed:
    key: int
    state: TaskState
    at: datetime


@dataclass(frozen=True)
class VariableSet:
    key: int
    instance_key: int
    scope_key: int
    name: str
    # JSON, as the engine holds it.
    value: str
    at: datetime


@dataclass(frozen=True)
class OrderIdentified:
    """The instance fulfils this order: its `orderId` at the top scope."""

    instance_key: int
    order_id: str


@dataclass(frozen=True)
class Progress:
    """The engine wrote something about the instance: it was not idle at `at`."""

    instance_key: int
    at: datetime


Change = (DefinitionDeployed | InstanceStarted | InstanceEnded | ElementEntered | ElementLeft | FlowTaken
          | IncidentOpened | IncidentResolved | UserTaskOpened | UserTaskChanged | UserTaskClosed | VariableSet
          | OrderIdentified | Progress | InstanceMigrated | ElementMigrated | IncidentMigrated | UserTaskMigrated)

# Longer is no order id of the suite's (they are UUIDs): the instance is then shown without one.
MAX_ORDER_ID = 100
_REQUIRED = ("partitionId", "position", "key", "timestamp", "recordType", "valueType", "intent", "value")


def read_record(raw: bytes | None) -> dict:
    """The record's JSON, checked for what every record has."""
    try:
        record = json.loads(raw or b"")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRecord(f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise InvalidRecord("not a JSON object")
    missing = [name for name in _REQUIRED if name not in record]
    if missing:
        raise InvalidRecord(f"not an engine record: no {', '.join(missing)}")
    if not isinstance(record["value"], dict):
        raise InvalidRecord("not an engine record: value is not an object")
    return record


def position_of(record: dict) -> Position:
    return Position(partition=int(record["partitionId"]), position=int(record["position"]))


def changes(record: dict) -> list[Change]:
    """The changes a record makes to what the monitor shows; none for a command, a rejection or a record
    type it does not show."""
    if record["recordType"] != "EVENT":
        return []
    reader = _READERS.get(record["valueType"])
    if reader is None:
        return []
    what = f"{record['valueType']} {record['intent']} record {record['key']}"
    try:
        found = reader(record["intent"], record["key"], record["value"], _time(record["timestamp"]))
    except KeyError as exc:
        raise InvalidRecord(f"{what} has no {exc.args[0]}") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidRecord(f"{what} cannot be read: {exc}") from exc
    instance = record["value"].get("processInstanceKey", -1)
    if isinstance(instance, int) and instance > 0:
        found.append(Progress(instance, _time(record["timestamp"])))
    return found


def _time(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)


def _key(value: int) -> int | None:
    """The engine writes -1 for "none"."""
    return value if value > 0 else None


def _process(intent: str, key: int, value: dict, at: datetime) -> list[Change]:
    if intent != "CREATED":
        return []
    try:
        xml = base64.b64decode(value["resource"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"resource is not base64 of UTF-8 text: {exc}") from exc
    name, forms = bpmn_facts(xml, value["bpmnProcessId"])
    return [DefinitionDeployed(key=key, bpmn_process_id=value["bpmnProcessId"], version=value["version"], name=name,
                               resource_name=value["resourceName"], bpmn_xml=xml, forms=forms, at=at,
                               version_tag=_text(value.get("versionTag", "")),
                               deployment_key=_key(value.get("deploymentKey", -1)))]


_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"


def bpmn_facts(xml: str, process_id: str) -> tuple[str | None, dict[str, str]]:
    """The process's name and the form each of its user tasks links to, by element id."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"resource is not BPMN XML: {exc}") from exc
    process = next((p for p in root.iter(f"{_BPMN}process") if p.get("id") == process_id), None)
    if process is None:
        raise ValueError(f"resource has no process {process_id}")
    forms = {task.get("id"): form.get("formId") for task in process.iter(f"{_BPMN}userTask")
             for form in task.iter(f"{_ZEEBE}formDefinition") if form.get("formId")}
    return process.get("name"), forms


def element_ids(xml: str, process_id: str) -> dict[str, str]:
    """Every flow node of the process (sub-processes' too) and its BPMN type, by element id: what a migration may
    map from or to."""
    process = next(p for p in ET.fromstring(xml).iter(f"{_BPMN}process") if p.get("id") == process_id)
    return {node.get("id"): node.tag.removeprefix(_BPMN) for node in process.iter()
            if node.tag.startswith(_BPMN) and node.get("id") and node.tag.removeprefix(_BPMN) in _FLOW_NODES}


_FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
               "task", "serviceTask", "sendTask", "receiveTask", "userTask", "manualTask", "scriptTask",
               "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
               "inclusiveGateway", "eventBasedGateway"}


_ENTERED = "ELEMENT_ACTIVATING"
_MIGRATED = "ELEMENT_MIGRATED"
_LEFT = {"ELEMENT_COMPLETED": InstanceState.COMPLETED, "ELEMENT_TERMINATED": InstanceState.TERMINATED}
# The body of a multi-instance activity carries its inner activity's id: counting both would count it twice.
_NOT_SHOWN = {"MULTI_INSTANCE_BODY"}


def _process_instance(intent: str, key: int, value: dict, at: datetime) -> list[Change]:
    element_type = value["bpmnElementType"]
    instance = value["processInstanceKey"]
    if element_type == "SEQUENCE_FLOW":
        return [FlowTaken(key, instance, value["elementId"], at)] if intent == "SEQUENCE_FLOW_TAKEN" else []
    if element_type in _NOT_SHOWN:
        return []
    if intent == _MIGRATED:
        if element_type == "PROCESS":
            return [InstanceMigrated(key, value["processDefinitionKey"], value["version"], at)]
        return [ElementMigrated(key, value["processDefinitionKey"], value["elementId"])]
    if element_type == "PROCESS":
        if intent == _ENTERED:
            return [InstanceStarted(key=key, definition_key=value["processDefinitionKey"],
                                    bpmn_process_id=value["bpmnProcessId"], version=value["version"],
                                    parent_key=_key(value["parentProcessInstanceKey"]), at=at)]
        return [InstanceEnded(key, _LEFT[intent], at)] if intent in _LEFT else []
    if intent == _ENTERED:
        return [ElementEntered(key=key, instance_key=instance, definition_key=value["processDefinitionKey"],
                               element_id=value["elementId"], element_type=element_type, at=at,
                               flow_scope_key=_key(value["flowScopeKey"]))]
    return [ElementLeft(key, _LEFT[intent], at)] if intent in _LEFT else []


def _incident(intent: str, key: int, value: dict, at: datetime) -> list[Change]:
    if intent == "CREATED":
        return [IncidentOpened(key=key, instance_key=value["processInstanceKey"],
                               definition_key=value["processDefinitionKey"], element_id=value["elementId"],
                               element_instance_key=value["elementInstanceKey"], error_type=value["errorType"],
                               message=value["errorMessage"], job_key=_key(value["jobKey"]), at=at)]
    if intent == "MIGRATED":
        return [IncidentMigrated(key, value["processDefinitionKey"], value["elementId"])]
    return [IncidentResolved(key, at)] if intent == "RESOLVED" else []


def _text(value: str) -> str | None:
    """The engine writes "" for an unset text attribute."""
    return value or None


def _user_task(intent: str, key: int, value: dict, at: datetime) -> list[Change]:
    people = dict(assignee=_text(value["assignee"]), candidate_groups=list(value["candidateGroupsList"]),
                  candidate_users=list(value["candidateUsersList"]), due_date=_text(value["dueDate"]))
    if intent == "CREATED":
        return [UserTaskOpened(key=key, instance_key=value["processInstanceKey"],
                               definition_key=value["processDefinitionKey"], element_id=value["elementId"],
                               element_instance_key=value["elementInstanceKey"], at=at, **people)]
    if intent in ("ASSIGNED", "UPDATED"):
        return [UserTaskChanged(key=key, **people)]
    if intent in ("COMPLETED", "CANCELED"):
        return [UserTaskClosed(key, TaskState(intent), at)]
    if intent == "MIGRATED":
        return [UserTaskMigrated(key, value["processDefinitionKey"], value["elementId"])]
    return []


def _variable(intent: str, key: int, value: dict, at: datetime) -> list[Change]:
    if intent not in ("CREATED", "UPDATED"):
        return []
    instance, scope, name = value["processInstanceKey"], value["scopeKey"], value["name"]
    found: list[Change] = [VariableSet(key=key, instance_key=instance, scope_key=scope, name=name,
                                       value=value["value"], at=at)]
    if name == ORDER_ID_VARIABLE and scope == instance:
        order_id = order_id_from(value["value"])
        if order_id is not None:
            found.append(OrderIdentified(instance, order_id))
    return found


def order_id_from(variable_value: str) -> str | None:
    """The order id in an `orderId` variable's JSON value, if it holds one."""
    try:
        order_id = json.loads(variable_value)
    except ValueError:
        return None
    return order_id if isinstance(order_id, str) and 0 < len(order_id) <= MAX_ORDER_ID else None


def _progress_only(intent: str, key: int, value: dict, at: datetime) -> list[Change]:
    """Jobs and timers: the monitor shows no state of theirs, only that the instance moved."""
    return []


_READERS: dict[str, Callable[[str, int, dict, datetime], list[Change]]] = {
    "PROCESS": _process,
    "PROCESS_INSTANCE": _process_instance,
    "INCIDENT": _incident,
    "USER_TASK": _user_task,
    "VARIABLE": _variable,
    "JOB": _progress_only,
    "TIMER": _progress_only,
}


@dataclass(frozen=True)
class MigrationPlan:
    """How running instances of one process move from a version tagged `from_tag` to one tagged `to_tag`: each
    source element id to its target element id (bpmn/migrations/). An element not named is not mapped."""

    bpmn_process_id: str
    from_tag: str
    to_tag: str
    elements: dict[str, str]

    def errors(self, source_ids: Collection[str], target_ids: Collection[str]) -> list[str]:
        """What in the plan the two versions do not have: the engine refuses a mapping of an element that is not
        there, whether an instance is at it or not."""
        return ([f"the plan maps {s}, which the source version does not have" for s in self.elements
                 if s not in source_ids]
                + [f"the plan maps {s} to {t}, which the target version does not have"
                   for s, t in self.elements.items() if t not in target_ids])

    def unmapped(self, active: list[str]) -> str | None:
        """Why an instance active at these elements cannot move by this plan, if it cannot."""
        missing = [element for element in dict.fromkeys(active) if element not in self.elements]
        if not missing:
            return None
        return (f"element {missing[0]} is not mapped" if len(missing) == 1
                else f"elements {', '.join(missing)} are not mapped")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class TextField:
    """A line of free text the form sets as `variable`; an optional one may be left out or empty."""

    variable: str
    label: str
    required: bool = False
    max_length: int = 500


@dataclass(frozen=True)
class Form:
    """What a person fills in to complete a user task: one choice, set as `variable`, and any text fields."""

    form_id: str
    variable: str
    choices: list[Choice]
    texts: tuple[TextField, ...] = ()

    def answer(self, given: dict[str, str]) -> dict[str, str]:
        """The variables that complete the task, if `given` sets the form's variable to one of its choices and
        sets no variable the form does not have; an empty optional text is left out."""
        texts = {text.variable: text for text in self.texts}
        if self.variable not in given or set(given) - {self.variable, *texts}:
            if not texts:
                raise ValueError(f"the form {self.form_id} sets exactly one variable, {self.variable}")
            raise ValueError(f"the form {self.form_id} sets {self.variable} and may set "
                             f"{', '.join(texts)}; it was given {', '.join(sorted(given)) or 'nothing'}")
        if given[self.variable] not in {c.value for c in self.choices}:
            raise ValueError(f"{self.variable} must be one of {', '.join(c.value for c in self.choices)}, "
                             f"not {given[self.variable]!r}")
        missing = [name for name, text in texts.items() if text.required and not given.get(name, "").strip()]
        if missing:
            raise ValueError(f"the form {self.form_id} needs {', '.join(missing)} filled in")
        too_long = [f"{name} ({len(given[name])} > {text.max_length})" for name, text in texts.items()
                    if len(given.get(name, "")) > text.max_length]
        if too_long:
            raise ValueError(f"the form {self.form_id} takes shorter text: {', '.join(too_long)} characters")
        return {name: value for name, value in given.items() if name == self.variable or value.strip()}


def _choices(labels: dict[str, str]) -> list[Choice]:
    return [Choice(value, label) for value, label in labels.items()]


# The forms the monitor can show, by form id: the processes' own (shared.contracts.process).
FORMS = {
    DECISION_FORM: Form(DECISION_FORM, DECISION_VARIABLE, _choices(DECISION_CHOICES)),
    REVIEW_FORM: Form(REVIEW_FORM, REVIEW_VARIABLE, _choices(REVIEW_CHOICES),
                      (TextField(REVIEW_NOTE_VARIABLE, "Note"),)),
}


def form_of(forms: dict[str, str] | None, element_id: str) -> Form | None:
    """The form a user task links to, given its definition's forms; None if unknown (definition not seen yet)."""
    return FORMS.get((forms or {}).get(element_id, ""))


def idle_seconds(last_record_at: datetime, now: datetime) -> int:
    return max(0, int((now - last_record_at).total_seconds()))
