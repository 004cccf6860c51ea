"""What the monitor's API answers: the response models, and how a row of the projection becomes one."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Row

from services.monitor.domain import IncidentState, InstanceState, TaskState, form_of

Item = TypeVar("Item")

class Page(BaseModel, Generic[Item]):
    """One page of a list, and how many items match on every page."""

    total: int
    limit: int
    offset: int
    items: list[Item]


class Accepted(BaseModel):
    detail: str = Field(description="what was asked of the engine; the monitor shows the outcome once its "
                                    "records arrive")


class AuditView(BaseModel):
    at: datetime
    actor: str = Field(description="who: their token's subject")
    action: str
    target: str
    order_id: str | None
    result: str = Field(description="ok, or refused with the reason")


class DefinitionView(BaseModel):
    key: int
    bpmn_process_id: str
    version: int
    name: str | None
    resource_name: str
    deployed_at: datetime
    version_tag: str | None = Field(description="its zeebe:versionTag; None for a process deployed without one")
    active_instances: int
    open_incidents: int


class ElementStatistics(BaseModel):
    element_id: str
    active: int = Field(description="instances at this element now")
    incidents: int = Field(description="open incidents at this element")



class InstanceView(BaseModel):
    key: int
    definition_key: int
    bpmn_process_id: str
    version: int
    parent_key: int | None = Field(description="the instance that called this one, if any")
    state: InstanceState
    order_id: str | None = Field(description="the `orderId` variable at its top scope")
    order_url: str | None = Field(description="the order in the Order service's API")
    started_at: datetime
    ended_at: datetime | None
    last_record_at: datetime = Field(description="when the engine last wrote anything about it (engine time)")
    open_incidents: int


class ElementView(BaseModel):
    key: int
    element_id: str
    element_type: str
    state: InstanceState
    entered_at: datetime
    left_at: datetime | None


class IncidentView(BaseModel):
    key: int
    instance_key: int
    bpmn_process_id: str | None
    order_id: str | None
    element_id: str
    element_instance_key: int
    error_type: str
    message: str
    job_key: int | None = Field(description="the failed job; retrying raises its retries")
    state: IncidentState
    created_at: datetime
    resolved_at: datetime | None


class Choice(BaseModel):
    value: str
    label: str


class TextFieldView(BaseModel):
    variable: str = Field(description="the variable the text sets")
    label: str
    required: bool = Field(description="false: it may be left out")


class FormView(BaseModel):
    form_id: str
    variable: str = Field(description="the variable the choice sets")
    choices: list[Choice]
    texts: list[TextFieldView] = Field(description="text fields beside the choice, e.g. a note")


class UserTaskView(BaseModel):
    key: int
    instance_key: int
    bpmn_process_id: str | None
    order_id: str | None
    element_id: str
    state: TaskState
    assignee: str | None
    candidate_groups: list[str] = Field(description="who may complete it: members of these groups")
    candidate_users: list[str] = Field(description="who may complete it: these users")
    due_date: str | None
    created_at: datetime
    ended_at: datetime | None
    form: FormView | None = Field(description="what to fill in; None while the task's definition is not known")


class VariableView(BaseModel):
    name: str
    value: str = Field(description="JSON, as the engine holds it")
    scope_key: int


class ChildView(BaseModel):
    key: int
    bpmn_process_id: str
    version: int
    state: InstanceState


class MigrationView(BaseModel):
    """The engine moved the instance from one version of its process to another."""

    from_version: int
    to_version: int
    from_definition_key: int
    to_definition_key: int
    migrated_at: datetime


class InstanceDetail(InstanceView):
    active_elements: list[str] = Field(description="element ids active now (one per element instance)")
    completed_elements: list[str] = Field(description="element ids completed, in the order they were entered")
    terminated_elements: list[str]
    taken_flows: list[str] = Field(description="sequence flow ids taken, in order")
    elements: list[ElementView]
    incidents: list[IncidentView]
    user_tasks: list[UserTaskView]
    variables: list[VariableView]
    children: list[ChildView] = Field(description="instances this one called")
    version_tag: str | None = Field(description="the zeebe:versionTag of the version it runs on now")
    migrations: list[MigrationView] = Field(description="the versions it was migrated between, oldest first")
    trace_id: str | None = Field(default=None, description="the order's trace, from its `traceparent` variable")
    trace_url: str | None = Field(default=None, description="that trace in Zipkin; None without one or without Zipkin")


class StalledInstance(BaseModel):
    key: int
    bpmn_process_id: str
    order_id: str | None
    parent_key: int | None
    idle_seconds: int = Field(description="since the engine last wrote anything about it")
    last_record_at: datetime
    waiting_at: list[str] = Field(description="the element ids active in it")
    open_incidents: int


def order_url(order_api_url: str, order_id: str | None) -> str | None:
    return f"{order_api_url}/orders/{order_id}" if order_id else None


def instance_fields(row: Row, order_api_url: str) -> dict:
    return {**row._mapping, "order_url": order_url(order_api_url, row.order_id)}


# W3C trace context (version 00): the trace id is the second field. The Order service puts the `traceparent` of the
# order's placement on its instance, so the instance leads to the trace the order's spans share.
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def trace_id(variables: Iterable, instance_key: int) -> str | None:
    """The trace id of the instance's `traceparent` variable (its own scope's before an inner one's)."""
    found = sorted((v for v in variables if v.name == "traceparent"), key=lambda v: v.scope_key != instance_key)
    for variable in found:
        try:
            value = json.loads(variable.value)
        except ValueError:
            continue
        match = TRACEPARENT.fullmatch(value) if isinstance(value, str) else None
        if match and set(match[1]) != {"0"}:  # all zeros is the standard's invalid trace id
            return match[1]
    return None


def trace_fields(variables: Iterable, instance_key: int, zipkin_url: str) -> dict:
    found = trace_id(variables, instance_key)
    return {"trace_id": found, "trace_url": f"{zipkin_url}/zipkin/traces/{found}" if found and zipkin_url else None}


def _of_instance(instance: Row | None) -> dict:
    """What an incident or task shows of its instance, when its row comes without it."""
    return {"order_id": instance and instance.order_id, "bpmn_process_id": instance and instance.bpmn_process_id}


def incident_view(row: Row, instance: Row | None = None) -> IncidentView:
    return IncidentView.model_validate({**_of_instance(instance), **row._mapping})


def task_view(row: Row, forms: dict[str, str] | None, instance: Row | None = None) -> UserTaskView:
    form = form_of(forms, row.element_id)
    fields = {**_of_instance(instance), **row._mapping}
    fields["form"] = None if form is None else FormView(
        form_id=form.form_id, variable=form.variable,
        choices=[Choice(value=c.value, label=c.label) for c in form.choices],
        texts=[TextFieldView(variable=t.variable, label=t.label, required=t.required) for t in form.texts])
    return UserTaskView.model_validate(fields)


class PlanBody(BaseModel):
    """One table of bpmn/migrations/<process>.toml."""

    bpmn_process_id: str = Field(max_length=255)
    from_tag: str = Field(max_length=255)
    to_tag: str = Field(max_length=255)
    elements: dict[str, str] = Field(max_length=500, description="source element id: target element id")


class MigrationRequest(BaseModel):
    bpmn_process_id: str = Field(max_length=255, description="the root process, e.g. order-fulfillment")
    from_version: int = Field(ge=1)
    to_version: int = Field(ge=1)
    plans: list[PlanBody] = Field(max_length=100, description="the plans of the process and of those it calls")
    dry_run: bool = Field(default=False, description="check and report; ask the engine nothing")
    limit: int = Field(default=50, ge=1, le=500, description="root instances in this batch")
    after: int = Field(default=0, ge=0, description="the cursor: root instances with a greater key")


class InstanceMigrationView(BaseModel):
    key: int
    bpmn_process_id: str
    order_id: str | None
    from_version: int
    to_version: int | None
    outcome: str = Field(description="migrated, refused, would migrate (dry run), left (not sent: its root was "
                                     "refused)")
    reason: str | None = Field(description="why refused (the engine's reason verbatim), or that the order is now "
                                           "on mixed versions")
    mixed: bool = Field(default=False, description="the root moved, a called instance did not")
    children: list[InstanceMigrationView] = Field(default_factory=list, description="the instances it called")


class MigrationBatchView(BaseModel):
    total: int = Field(description="running root instances of the source version from the cursor on, before this "
                                   "batch")
    items: list[InstanceMigrationView]
    next_after: int | None = Field(description="the cursor of the next batch; None: this was the last")
