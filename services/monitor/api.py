"""Process monitor HTTP API: definitions, instances, incidents, user tasks and stalled instances, read from the
projection; retry, cancel and complete go to the engine's REST API. `/` is the page (web/)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Row

from runtime.db import unit_of_work
from runtime.http import NOT_JSON, Identifier, Sessions, Text, problem
from services.monitor import queries
from services.monitor.domain import Form, IncidentState, InstanceState, TaskState, form_of, idle_seconds
from services.monitor.engine import Engine, EngineRefused, EngineUnreachable
from services.monitor.settings import MonitorSettings

router = APIRouter(tags=["monitor"])
WEB = FilePath(__file__).with_name("web")

# Engine keys are 64-bit; path parameters stay within them.
Key = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
NOT_FOUND = problem("No such key in the monitor (or not projected yet)")
ENGINE_ERRORS = {409: problem("The state does not allow it, or the engine refused: the engine's reason"),
                 503: problem("The engine's REST API did not answer")}


def _settings(request: Request) -> MonitorSettings:
    return request.app.state.settings


Settings = Annotated[MonitorSettings, Depends(_settings)]


def _engine(settings: Settings) -> Iterator[Engine]:
    engine = Engine(settings.camunda_rest_url)
    try:
        yield engine
    finally:
        engine.close()


EngineApi = Annotated[Engine, Depends(_engine)]


def _ask_engine(action) -> None:
    try:
        action()
    except EngineRefused as exc:
        raise HTTPException(409, detail=f"the engine refused ({exc.status}): {exc.detail}") from exc
    except EngineUnreachable as exc:
        raise HTTPException(503, detail=str(exc)) from exc


class Accepted(BaseModel):
    detail: str = Field(description="what was asked of the engine; the monitor shows the outcome once its "
                                    "records arrive")


# --- definitions ---------------------------------------------------------------------------------------------

class DefinitionView(BaseModel):
    key: int
    bpmn_process_id: str
    version: int
    name: str | None
    resource_name: str
    deployed_at: datetime
    active_instances: int
    open_incidents: int


class ElementStatistics(BaseModel):
    element_id: str
    active: int = Field(description="instances at this element now")
    incidents: int = Field(description="open incidents at this element")


@router.get("/definitions", response_model=list[DefinitionView])
def list_definitions(all_sessions: Sessions) -> list[DefinitionView]:
    """Every deployed process version, newest version first, with its active instances and open incidents."""
    with unit_of_work(all_sessions) as session:
        return [DefinitionView.model_validate(row, from_attributes=True) for row in queries.definition_list(session)]


@router.get("/definitions/{key}/xml", response_class=Response, responses={
    200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "The BPMN XML as deployed"},
    404: NOT_FOUND})
def definition_xml(key: Key, all_sessions: Sessions) -> Response:
    with unit_of_work(all_sessions) as session:
        found = queries.definition(session, key)
    if found is None:
        raise HTTPException(404, detail=f"no process definition {key}")
    return Response(found.bpmn_xml, media_type="application/xml")


@router.get("/definitions/{key}/statistics", response_model=list[ElementStatistics], responses={404: NOT_FOUND})
def definition_statistics(key: Key, all_sessions: Sessions) -> list[ElementStatistics]:
    """Per element of the diagram: instances there now and open incidents (elements with neither are left out)."""
    with unit_of_work(all_sessions) as session:
        if queries.definition(session, key) is None:
            raise HTTPException(404, detail=f"no process definition {key}")
        found = queries.element_statistics(session, key)
    return [ElementStatistics(element_id=element, **counts) for element, counts in sorted(found.items())]


# --- instances -----------------------------------------------------------------------------------------------

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


class InstancePage(BaseModel):
    total: int = Field(description="instances matching the filter, on every page")
    limit: int
    offset: int
    items: list[InstanceView]


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


class FormView(BaseModel):
    form_id: str
    variable: str = Field(description="the variable the choice sets")
    choices: list[Choice]


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
    state: InstanceState


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


def _order_url(settings: MonitorSettings, order_id: str | None) -> str | None:
    return f"{settings.order_api_url}/orders/{order_id}" if order_id else None


def _instance_fields(row: Row, settings: MonitorSettings) -> dict:
    return {**row._mapping, "order_url": _order_url(settings, row.order_id)}


def _incident_view(row: Row, instance: Row | None = None) -> IncidentView:
    return IncidentView.model_validate({**_instance_of(instance), **row._mapping})


def _instance_of(instance: Row | None) -> dict:
    """What an incident or task shows of its instance, when the rows come without it."""
    return {"order_id": instance and instance.order_id, "bpmn_process_id": instance and instance.bpmn_process_id}


def _task_view(row: Row, forms: dict[str, str] | None, instance: Row | None = None) -> UserTaskView:
    form = form_of(forms, row.element_id)
    fields = {**_instance_of(instance), **row._mapping}
    fields["form"] = None if form is None else FormView(
        form_id=form.form_id, variable=form.variable,
        choices=[Choice(value=c.value, label=c.label) for c in form.choices])
    return UserTaskView.model_validate(fields)


@router.get("/instances", response_model=InstancePage)
def list_instances(
        all_sessions: Sessions, settings: Settings,
        state: InstanceState | None = None,
        order_id: Annotated[Identifier | None, Query(description="the order's id (`orderId` variable)")] = None,
        incident: Annotated[bool | None, Query(description="true: with an open incident; false: without")] = None,
        started_from: Annotated[datetime | None, Query(description="started at or after")] = None,
        started_to: Annotated[datetime | None, Query(description="started before")] = None,
        bpmn_process_id: Identifier | None = None,
        definition_key: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        limit: Limit = 50, offset: Offset = 0) -> InstancePage:
    """Process instances (called ones too), newest first, filtered; one page and the total."""
    where = queries.InstanceFilter(state=state, order_id=order_id, with_incident=incident, started_from=started_from,
                                   started_to=started_to, bpmn_process_id=bpmn_process_id,
                                   definition_key=definition_key)
    with unit_of_work(all_sessions) as session:
        total, rows = queries.instance_page(session, where, limit, offset)
    return InstancePage(total=total, limit=limit, offset=offset,
                        items=[InstanceView(**_instance_fields(row, settings)) for row in rows])


@router.get("/instances/{key}", response_model=InstanceDetail, responses={404: NOT_FOUND})
def get_instance(key: Key, all_sessions: Sessions, settings: Settings) -> InstanceDetail:
    """One instance with what its diagram shows (active, completed, terminated elements, taken flows,
    incidents), its user tasks, variables and the instances it called."""
    with unit_of_work(all_sessions) as session:
        row = queries.instance(session, key)
        if row is None:
            raise HTTPException(404, detail=f"no process instance {key}")
        detail = queries.instance_detail(session, key, row.definition_key)

    def ids(state: InstanceState) -> list[str]:
        return [e.element_id for e in detail.elements if e.state == state]

    return InstanceDetail(
        **_instance_fields(row, settings),
        active_elements=ids(InstanceState.ACTIVE), completed_elements=ids(InstanceState.COMPLETED),
        terminated_elements=ids(InstanceState.TERMINATED), taken_flows=detail.taken_flows,
        elements=[ElementView.model_validate(e, from_attributes=True) for e in detail.elements],
        incidents=[_incident_view(i, row) for i in detail.incidents],
        user_tasks=[_task_view(t, detail.forms, row) for t in detail.user_tasks],
        variables=[VariableView.model_validate(v, from_attributes=True) for v in detail.variables],
        children=[ChildView.model_validate(c, from_attributes=True) for c in detail.children],
    )


@router.post("/instances/{key}/cancellation", status_code=202, response_model=Accepted,
             responses={404: NOT_FOUND, **ENGINE_ERRORS})
def cancel_instance(key: Key, all_sessions: Sessions, engine: EngineApi) -> Accepted:
    """Cancel an active instance (and the instances it called) in the engine."""
    with unit_of_work(all_sessions) as session:
        row = queries.instance(session, key)
    if row is None:
        raise HTTPException(404, detail=f"no process instance {key}")
    if row.state != InstanceState.ACTIVE:
        raise HTTPException(409, detail=f"process instance {key} is {row.state}, not active")
    _ask_engine(lambda: engine.cancel_instance(key))
    return Accepted(detail=f"cancellation of process instance {key} requested")


class StalledInstance(BaseModel):
    key: int
    bpmn_process_id: str
    order_id: str | None
    parent_key: int | None
    idle_seconds: int = Field(description="since the engine last wrote anything about it")
    last_record_at: datetime
    waiting_at: list[str] = Field(description="the element ids active in it")
    open_incidents: int


@router.get("/stalled-instances", response_model=list[StalledInstance], tags=["operations"])
def stalled_instances(
        all_sessions: Sessions, settings: Settings,
        idle_seconds_at_least: Annotated[float | None, Query(
            alias="idle_seconds", ge=0, le=10 * 365 * 86400,
            description="idle for at least this long; the service's setting by default")] = None,
        limit: Limit = 100) -> list[StalledInstance]:
    """Active instances that made no progress: no record from the engine for a while, longest idle first.
    A parent waiting for an instance it called is not listed; the called instance is, if idle."""
    now = datetime.now(timezone.utc)
    idle = settings.stalled_after_seconds if idle_seconds_at_least is None else idle_seconds_at_least
    with unit_of_work(all_sessions) as session:
        rows = queries.stalled(session, now - timedelta(seconds=idle), limit)
    return [StalledInstance(key=r.key, bpmn_process_id=r.bpmn_process_id, order_id=r.order_id,
                            parent_key=r.parent_key, idle_seconds=idle_seconds(r.last_record_at, now),
                            last_record_at=r.last_record_at, waiting_at=sorted(r.waiting_at or []),
                            open_incidents=r.open_incidents) for r in rows]


# --- incidents -----------------------------------------------------------------------------------------------

class IncidentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[IncidentView]


@router.get("/incidents", response_model=IncidentPage)
def list_incidents(all_sessions: Sessions, state: IncidentState | None = IncidentState.ACTIVE,
                   limit: Limit = 50, offset: Offset = 0) -> IncidentPage:
    """Incidents, oldest first: open ones unless `state` says otherwise (state=RESOLVED, or none for all)."""
    with unit_of_work(all_sessions) as session:
        total, rows = queries.incident_page(session, state, limit, offset)
    return IncidentPage(total=total, limit=limit, offset=offset, items=[_incident_view(r) for r in rows])


@router.post("/incidents/{key}/retry", status_code=202, response_model=Accepted,
             responses={404: NOT_FOUND, **ENGINE_ERRORS})
def retry_incident(key: Key, all_sessions: Sessions, engine: EngineApi,
                   retries: Annotated[int, Query(ge=1, le=100, description="the job's retries from now")] = 1
                   ) -> Accepted:
    """After fixing its cause: give the failed job `retries` again and resolve the incident, so the engine runs
    the job (or, for an incident without a job, the element) once more."""
    with unit_of_work(all_sessions) as session:
        row = queries.incident(session, key)
    if row is None:
        raise HTTPException(404, detail=f"no incident {key}")
    if row.state != IncidentState.ACTIVE:
        raise HTTPException(409, detail=f"incident {key} is already resolved")
    if row.job_key is not None:
        _ask_engine(lambda: engine.set_job_retries(row.job_key, retries))
    _ask_engine(lambda: engine.resolve_incident(key))
    job = f"job {row.job_key} has {retries} retries, " if row.job_key is not None else ""
    return Accepted(detail=f"{job}incident {key} resolved")


# --- user tasks ----------------------------------------------------------------------------------------------

class UserTaskPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[UserTaskView]


@router.get("/user-tasks", response_model=UserTaskPage)
def list_user_tasks(all_sessions: Sessions, state: TaskState | None = TaskState.CREATED,
                    limit: Limit = 50, offset: Offset = 0) -> UserTaskPage:
    """User tasks, oldest first: open ones unless `state` says otherwise; each with its form and who may do it."""
    with unit_of_work(all_sessions) as session:
        total, rows = queries.user_task_page(session, state, limit, offset)
    return UserTaskPage(total=total, limit=limit, offset=offset, items=[_task_view(r, r.forms) for r in rows])


@router.get("/user-tasks/{key}", response_model=UserTaskView, responses={404: NOT_FOUND})
def get_user_task(key: Key, all_sessions: Sessions) -> UserTaskView:
    with unit_of_work(all_sessions) as session:
        row = queries.user_task(session, key)
    if row is None:
        raise HTTPException(404, detail=f"no user task {key}")
    return _task_view(row, row.forms)


class CompleteTask(BaseModel):
    variables: dict[Identifier, Text] = Field(
        max_length=20, description="what the form sets, e.g. {\"decision\": \"continue\"}")


@router.post("/user-tasks/{key}/completion", status_code=202, response_model=Accepted,
             responses={**NOT_JSON, 404: NOT_FOUND, **ENGINE_ERRORS,
                        422: problem("The variables are not what the task's form asks for")})
def complete_user_task(key: Key, body: CompleteTask, all_sessions: Sessions, engine: EngineApi) -> Accepted:
    """Complete an open user task with its form's answer."""
    with unit_of_work(all_sessions) as session:
        row = queries.user_task(session, key)
    if row is None:
        raise HTTPException(404, detail=f"no user task {key}")
    if row.state != TaskState.CREATED:
        raise HTTPException(409, detail=f"user task {key} is {row.state}, not open")
    form = form_of(row.forms, row.element_id)
    if form is None:
        raise HTTPException(409, detail=f"the form of user task {key} is not known to the monitor")
    variables = _answer(form, body.variables)
    _ask_engine(lambda: engine.complete_user_task(key, variables))
    return Accepted(detail=f"user task {key} completed with {variables}")


def _answer(form: Form, given: dict[str, Any]) -> dict[str, str]:
    if set(given) != {form.variable}:
        raise HTTPException(422, detail=f"the form {form.form_id} sets exactly one variable, {form.variable}")
    try:
        return form.variables_for(given[form.variable])
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from exc


# --- the page ------------------------------------------------------------------------------------------------

@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(WEB / "index.html")
