"""Process monitor HTTP API: definitions, instances, incidents, user tasks and stalled instances, read from the
projection; retry, cancel and complete go to the engine's REST API. `/` is the page (web/)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Row

from services.monitor import audit, batches, queries
from services.monitor.domain import IncidentState, InstanceState, MigrationPlan, TaskState, form_of, idle_seconds
from services.monitor.engine import Engine, EngineRefused, EngineUnreachable
from services.monitor.instance_migration import BatchRequest, MigrationImpossible, migrate_batch
from services.monitor.settings import MonitorSettings
from services.monitor.task_owners import (
    AssignedToAnother,
    NotACandidate,
    NotAssigned,
    Person,
    TaskPeople,
    check_claim,
    check_complete,
    check_release,
    check_see,
)
from services.monitor.views import (
    Accepted,
    AuditView,
    ChildView,
    DefinitionView,
    ElementStatistics,
    ElementView,
    IncidentView,
    InstanceDetail,
    InstanceMigrationView,
    InstanceView,
    MigrationBatchView,
    MigrationRequest,
    MigrationView,
    Page,
    StalledInstance,
    UserTaskView,
    VariableView,
    incident_view,
    instance_fields,
    task_view,
    trace_fields,
)
from shared.contracts.roles import OPERATOR, SERVICE, TASK_GROUPS
from shared.runtime.auth import NO_ACTOR, PUBLIC, Actor, Caller, CurrentCaller, allow
from shared.runtime.db import unit_of_work
from shared.runtime.http import NOT_JSON, Identifier, IsoTime, PageLimit, PageOffset, Sessions, Text, problem
from shared.runtime.operations import OperationView
from shared.runtime.operations import view as operation_view

router = APIRouter(tags=["monitor"])
# Operators see and act on every process; the Order service's reconciler reads an order's instances.
OPERATORS = [allow(OPERATOR)]
READERS = [allow(OPERATOR, SERVICE)]
# User tasks: operators see them all; the members of the processes' candidate groups see, claim, release and
# complete their groups' tasks (task_owners.py decides, per task).
TASK_WORKERS = [allow(OPERATOR, groups=TASK_GROUPS)]
WEB = FilePath(__file__).with_name("web")

# Engine keys are 64-bit; path parameters stay within them.
Key = Annotated[int, Path(ge=1, le=2**63 - 1)]


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


def _found(sessions, read, what: str) -> Row:
    """The row `read(session, key)` finds, or a 404 that says what is missing."""
    with unit_of_work(sessions) as session:
        row = read(session)
    if row is None:
        raise HTTPException(404, detail=f"no {what}")
    return row


def _ask_engine(action) -> None:
    try:
        action()
    except EngineRefused as exc:
        raise HTTPException(409, detail=f"the engine refused ({exc.status}): {exc.detail}") from exc
    except EngineUnreachable as exc:
        raise HTTPException(503, detail=str(exc)) from exc


def _audited(all_sessions, actor: Caller, action: str, target: str, order_id: str | None, act):
    """`act()`'s answer, with who asked, what for and how it ended (ok, or refused with the reason) in the audit."""
    result = "failed: the monitor's log has the cause"
    try:
        answer = act()
    except HTTPException as exc:
        result = f"refused ({exc.status_code}): {exc.detail}"
        raise
    else:
        result = f"ok: {getattr(answer, 'detail', None) or 'done'}"
        return answer
    finally:
        with unit_of_work(all_sessions) as session:
            audit.record(session, audit.Entry(actor.subject, action, target, result[:2000], order_id))


NO_SUBJECT = problem(f"The role does not allow it, or {NO_ACTOR}")


# --- definitions ---------------------------------------------------------------------------------------------

@router.get("/definitions", dependencies=OPERATORS, response_model=list[DefinitionView])
def list_definitions(all_sessions: Sessions) -> list[DefinitionView]:
    """Every deployed process version, newest version first, with its active instances and open incidents."""
    with unit_of_work(all_sessions) as session:
        return [DefinitionView.model_validate(row, from_attributes=True) for row in queries.definition_list(session)]


@router.get("/definitions/{key}/xml", dependencies=OPERATORS, response_class=Response, responses={
    200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "The BPMN XML as deployed"},
    404: NOT_FOUND})
def definition_xml(key: Key, all_sessions: Sessions) -> Response:
    found = _found(all_sessions, lambda session: queries.definition(session, key), f"process definition {key}")
    return Response(found.bpmn_xml, media_type="application/xml")


@router.get("/definitions/{key}/statistics", dependencies=OPERATORS, response_model=list[ElementStatistics],
            responses={404: NOT_FOUND})
def definition_statistics(key: Key, all_sessions: Sessions) -> list[ElementStatistics]:
    """Per element of the diagram: instances there now and open incidents (elements with neither are left out)."""
    _found(all_sessions, lambda session: queries.definition(session, key), f"process definition {key}")
    with unit_of_work(all_sessions) as session:
        found = queries.element_statistics(session, key)
    return [ElementStatistics(element_id=element, **counts) for element, counts in sorted(found.items())]


# --- instances -----------------------------------------------------------------------------------------------

@router.get("/instances", dependencies=READERS, response_model=Page[InstanceView])
def list_instances(
        all_sessions: Sessions, settings: Settings,
        state: InstanceState | None = None,
        order_id: Annotated[Identifier | None, Query(description="the order's id (`orderId` variable)")] = None,
        incident: Annotated[bool | None, Query(description="true: with an open incident; false: without")] = None,
        started_from: Annotated[IsoTime | None, Query(description="started at or after")] = None,
        started_to: Annotated[IsoTime | None, Query(description="started before")] = None,
        bpmn_process_id: Identifier | None = None,
        definition_key: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        limit: PageLimit = 50, offset: PageOffset = 0) -> Page[InstanceView]:
    """Process instances (called ones too), newest first, filtered; one page and the total."""
    where = queries.InstanceFilter(state=state, order_id=order_id, with_incident=incident, started_from=started_from,
                                   started_to=started_to, bpmn_process_id=bpmn_process_id,
                                   definition_key=definition_key)
    with unit_of_work(all_sessions) as session:
        total, rows = queries.instance_page(session, where, limit, offset)
    return Page[InstanceView](total=total, limit=limit, offset=offset,
                              items=[InstanceView(**instance_fields(row, settings.order_api_url)) for row in rows])


@router.get("/instances/{key}", dependencies=READERS, response_model=InstanceDetail, responses={404: NOT_FOUND})
def get_instance(key: Key, all_sessions: Sessions, settings: Settings) -> InstanceDetail:
    """One instance with what its diagram shows (active, completed, terminated elements, taken flows,
    incidents), its user tasks, variables and the instances it called."""
    row = _found(all_sessions, lambda session: queries.instance(session, key), f"process instance {key}")
    with unit_of_work(all_sessions) as session:
        detail = queries.instance_detail(session, key, row.definition_key)

    def ids(state: InstanceState) -> list[str]:
        return [e.element_id for e in detail.elements if e.state == state]

    return InstanceDetail(
        **instance_fields(row, settings.order_api_url),
        active_elements=ids(InstanceState.ACTIVE), completed_elements=ids(InstanceState.COMPLETED),
        terminated_elements=ids(InstanceState.TERMINATED), taken_flows=detail.taken_flows,
        elements=[ElementView.model_validate(e, from_attributes=True) for e in detail.elements],
        incidents=[incident_view(i, row) for i in detail.incidents],
        user_tasks=[task_view(t, detail.forms, row) for t in detail.user_tasks],
        variables=[VariableView.model_validate(v, from_attributes=True) for v in detail.variables],
        children=[ChildView.model_validate(c, from_attributes=True) for c in detail.children],
        version_tag=detail.version_tag,
        migrations=[MigrationView.model_validate(m, from_attributes=True) for m in detail.migrations],
        **trace_fields(detail.variables, key, settings.zipkin_url),
    )


@router.post("/instances/{key}/cancellation", dependencies=OPERATORS, status_code=202, response_model=Accepted,
             responses={404: NOT_FOUND, 403: NO_SUBJECT, **ENGINE_ERRORS})
def cancel_instance(key: Key, all_sessions: Sessions, engine: EngineApi, actor: Actor) -> Accepted:
    """Cancel an active instance (and the instances it called) in the engine; not one of an order's: cancelling it
    would leave the order's stock reserved and the order open for good, so the Order service's cancel or abort it is."""
    row = _found(all_sessions, lambda session: queries.instance(session, key), f"process instance {key}")
    return _audited(all_sessions, actor, "cancel instance", f"instance {key}", row.order_id,
                    lambda: _cancel(row, key, engine))


def _cancel(row: Row, key: int, engine: Engine) -> Accepted:
    if row.state != InstanceState.ACTIVE:
        raise HTTPException(409, detail=f"process instance {key} is {row.state}, not active")
    if row.order_id:
        raise HTTPException(409, detail=(
            f"process instance {key} runs order {row.order_id}: cancelling it in the engine would leave the order "
            f"open with its stock reserved. Cancel the order (POST /orders/{row.order_id}/cancel on the Order "
            f"service, `fulfil order cancel {row.order_id}`) or, when its process cannot finish, abort it with its "
            f"work undone (POST /orders/{row.order_id}/abort, `fulfil order abort {row.order_id} --reason ...`)"))
    _ask_engine(lambda: engine.cancel_instance(key))
    return Accepted(detail=f"cancellation of process instance {key} requested")


@router.get("/stalled-instances", dependencies=OPERATORS, response_model=list[StalledInstance],
            tags=["operations"])
def stalled_instances(
        all_sessions: Sessions, settings: Settings,
        idle_seconds_at_least: Annotated[float | None, Query(
            alias="idle_seconds", ge=0, le=10 * 365 * 86400,
            description="idle for at least this long; the service's setting by default")] = None,
        limit: PageLimit = 100) -> list[StalledInstance]:
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


@router.post("/migrations", dependencies=OPERATORS, response_model=MigrationBatchView, tags=["operations"],
             responses={**NOT_JSON, 403: NO_SUBJECT,
                        409: problem("A version is not known or lacks what a migration needs")})
def migrate_instances(body: MigrationRequest, all_sessions: Sessions, engine: EngineApi,
                      actor: Actor) -> MigrationBatchView:
    """Move a batch of running root instances of one version (with the instances they called) to another, by the
    plans given; each is reported migrated, refused (with the reason, the engine's verbatim) or left."""
    request = BatchRequest(
        bpmn_process_id=body.bpmn_process_id, from_version=body.from_version, to_version=body.to_version,
        plans=[MigrationPlan(p.bpmn_process_id, p.from_tag, p.to_tag, p.elements) for p in body.plans],
        dry_run=body.dry_run, limit=body.limit, after=body.after)
    report = _audited(all_sessions, actor, "migrate instances" + (" (dry run)" if body.dry_run else ""),
                      f"{body.bpmn_process_id} {body.from_version}->{body.to_version}", None,
                      lambda: _migrate(all_sessions, engine, request))

    def view(item) -> InstanceMigrationView:
        return InstanceMigrationView(key=item.key, bpmn_process_id=item.bpmn_process_id, order_id=item.order_id,
                                     from_version=item.from_version, to_version=item.to_version,
                                     outcome=item.outcome, reason=item.reason, mixed=item.mixed,
                                     children=[view(c) for c in item.children])

    return MigrationBatchView(total=report.total, items=[view(i) for i in report.items],
                              next_after=report.next_after)


def _migrate(all_sessions, engine: Engine, request: BatchRequest):
    try:
        return migrate_batch(all_sessions, engine, request)
    except MigrationImpossible as exc:
        raise HTTPException(409, detail=str(exc)) from exc


# --- incidents -----------------------------------------------------------------------------------------------

@router.get("/incidents", dependencies=OPERATORS, response_model=Page[IncidentView])
def list_incidents(all_sessions: Sessions, state: IncidentState | None = IncidentState.ACTIVE,
                   limit: PageLimit = 50, offset: PageOffset = 0) -> Page[IncidentView]:
    """Incidents, oldest first: open ones unless `state` says otherwise (state=RESOLVED, or none for all)."""
    with unit_of_work(all_sessions) as session:
        total, rows = queries.incident_page(session, state, limit, offset)
    return Page[IncidentView](total=total, limit=limit, offset=offset, items=[incident_view(r) for r in rows])


@router.post("/incidents/{key}/retry", dependencies=OPERATORS, status_code=202, response_model=Accepted,
             responses={404: NOT_FOUND, 403: NO_SUBJECT, **ENGINE_ERRORS})
def retry_incident(key: Key, all_sessions: Sessions, engine: EngineApi, actor: Actor,
                   retries: Annotated[int, Query(ge=1, le=100, description="the job's retries from now")] = 1
                   ) -> Accepted:
    """After fixing its cause: give the failed job `retries` again and resolve the incident, so the engine runs
    the job (or, for an incident without a job, the element) once more."""
    row = _found(all_sessions, lambda session: queries.incident(session, key), f"incident {key}")
    return _audited(all_sessions, actor, "retry incident", f"incident {key}", row.order_id,
                    lambda: _retry(row, key, retries, engine))


def _retry(row: Row, key: int, retries: int, engine: Engine) -> Accepted:
    if row.state != IncidentState.ACTIVE:
        raise HTTPException(409, detail=f"incident {key} is already resolved")
    if row.job_key is not None:
        _ask_engine(lambda: engine.set_job_retries(row.job_key, retries))
    _ask_engine(lambda: engine.resolve_incident(key))
    job = f"job {row.job_key} has {retries} retries, " if row.job_key is not None else ""
    return Accepted(detail=f"{job}incident {key} resolved")


# --- batch operations and the audit --------------------------------------------------------------------------

class IncidentRetryRequest(BaseModel):
    job_type: Identifier | None = Field(default=None, description="the failed job's type, e.g. `reserve-stock`")
    message_contains: Text | None = Field(default=None, max_length=200,
                                          description="a part of the incident's error message")
    since: IsoTime | None = Field(default=None, description="raised at or after")
    until: IsoTime | None = Field(default=None, description="raised before")
    retries: int = Field(default=1, ge=1, le=100, description="each failed job's retries from now")


OPERATION_NOT_FOUND = problem("No such operation")


@router.post("/operations/incident-retries", dependencies=OPERATORS, status_code=202, response_model=OperationView,
             tags=["operations"], responses={**NOT_JSON, 403: NO_SUBJECT,
                                             409: problem("More incidents match than one operation takes")})
def retry_incidents(body: IncidentRetryRequest, all_sessions: Sessions, actor: Actor) -> OperationView:
    """Retry every open incident that matches, as one operation: the matching incidents are fixed now, a background
    loop retries them one by one (an incident resolved meanwhile is 'already resolved'), and GET
    /operations/{id} shows the progress and each one's result."""
    where = batches.IncidentFilter(job_type=body.job_type, message_contains=body.message_contains,
                                   since=body.since, until=body.until, retries=body.retries)
    try:
        with unit_of_work(all_sessions) as session:
            operation_id = batches.start_retry(session, where, actor.subject)
    except batches.TooManyItems as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    return get_operation(operation_id, all_sessions)


@router.get("/operations", dependencies=OPERATORS, response_model=Page[OperationView], tags=["operations"])
def list_operations(all_sessions: Sessions, limit: PageLimit = 50, offset: PageOffset = 0) -> Page[OperationView]:
    """Batch operations, newest first, with their counts (not their items)."""
    with unit_of_work(all_sessions) as session:
        total, rows = batches.operations.page(session, limit, offset)
    return Page[OperationView](total=total, limit=limit, offset=offset, items=[operation_view(r) for r in rows])


@router.get("/operations/{operation_id}", dependencies=OPERATORS, response_model=OperationView,
            tags=["operations"], responses={404: OPERATION_NOT_FOUND})
def get_operation(operation_id: Identifier, all_sessions: Sessions) -> OperationView:
    """One operation: who asked for what, its progress, and each item's result."""
    return batches.operations.answer(all_sessions, operation_id)


@router.get("/audit", dependencies=OPERATORS, response_model=Page[AuditView], tags=["operations"])
def list_audit(all_sessions: Sessions,
               order_id: Annotated[Identifier | None, Query(description="actions on the order's instances")] = None,
               actor: Annotated[Identifier | None, Query(description="a token's subject")] = None,
               target: Annotated[Identifier | None, Query(description="e.g. `incident 2251799813685251`")] = None,
               limit: PageLimit = 50, offset: PageOffset = 0) -> Page[AuditView]:
    """Who did what in the monitor, newest first: each operator action, its target, when and how it ended."""
    with unit_of_work(all_sessions) as session:
        total, rows = audit.page(session, order_id=order_id, actor=actor, target=target, limit=limit, offset=offset)
    return Page[AuditView](total=total, limit=limit, offset=offset,
                           items=[AuditView.model_validate(r, from_attributes=True) for r in rows])


# --- user tasks ----------------------------------------------------------------------------------------------

TASK_REFUSALS = {403: problem("The caller is not one of the task's candidates, or another person claimed it, or "
                              "the token names no subject")}


def _person(caller: Caller) -> Person:
    return Person(caller.username, caller.groups, operator=caller.has(OPERATOR))


def _task_for(all_sessions, key: int, caller: Caller) -> tuple[Row, TaskPeople]:
    """The task's row and people, or 404; 403 if the caller is neither an operator nor one of its candidates."""
    row = _found(all_sessions, lambda session: queries.user_task(session, key), f"user task {key}")
    people = TaskPeople.of(key, row.assignee, row.candidate_groups, row.candidate_users)
    _refuse(lambda: check_see(people, _person(caller)))
    return row, people


def _refuse(check):
    """Run a task_owners check, its refusal as the HTTP answer: 403 for who the caller is, 409 for the state."""
    try:
        return check()
    except (NotACandidate, AssignedToAnother) as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    except NotAssigned as exc:
        raise HTTPException(409, detail=str(exc)) from exc


def _open(row: Row, key: int) -> None:
    if row.state != TaskState.CREATED:
        raise HTTPException(409, detail=f"user task {key} is {row.state}, not open")


@router.get("/user-tasks", dependencies=TASK_WORKERS, response_model=Page[UserTaskView])
def list_user_tasks(all_sessions: Sessions, caller: CurrentCaller, state: TaskState | None = TaskState.CREATED,
                    limit: PageLimit = 50, offset: PageOffset = 0) -> Page[UserTaskView]:
    """User tasks, oldest first: open ones unless `state` says otherwise; each with its form, who may do it, who
    claimed it and when it is due. Operators see every task; anyone else the tasks of their groups and their own."""
    candidate = None if caller.has(OPERATOR) else queries.Candidate(caller.username, caller.groups)
    with unit_of_work(all_sessions) as session:
        total, rows = queries.user_task_page(session, state, limit, offset, candidate)
    return Page[UserTaskView](total=total, limit=limit, offset=offset, items=[task_view(r, r.forms) for r in rows])


@router.get("/user-tasks/{key}", dependencies=TASK_WORKERS, response_model=UserTaskView,
            responses={404: NOT_FOUND, **TASK_REFUSALS})
def get_user_task(key: Key, all_sessions: Sessions, caller: CurrentCaller) -> UserTaskView:
    row, _ = _task_for(all_sessions, key, caller)
    return task_view(row, row.forms)


@router.post("/user-tasks/{key}/assignment", dependencies=TASK_WORKERS, status_code=202, response_model=Accepted,
             responses={404: NOT_FOUND, **TASK_REFUSALS, **ENGINE_ERRORS})
def claim_user_task(key: Key, all_sessions: Sessions, engine: EngineApi, caller: Actor) -> Accepted:
    """Claim an open task: it is assigned to the caller (their username), so only they complete it until they
    release it. Only a member of one of its candidate groups (or a candidate user) claims it."""
    row, people = _task_for(all_sessions, key, caller)
    return _audited(all_sessions, caller, "claim user task", f"user task {key}", row.order_id,
                    lambda: _claim(row, people, key, caller, engine))


def _claim(row: Row, people: TaskPeople, key: int, caller: Caller, engine: Engine) -> Accepted:
    _open(row, key)
    if not _refuse(lambda: check_claim(people, _person(caller))):
        return Accepted(detail=f"user task {key} is already assigned to {caller.username}")
    _ask_engine(lambda: engine.assign_user_task(key, caller.username))
    return Accepted(detail=f"user task {key} assigned to {caller.username}")


@router.delete("/user-tasks/{key}/assignment", dependencies=TASK_WORKERS, status_code=202, response_model=Accepted,
               responses={404: NOT_FOUND, **TASK_REFUSALS, **ENGINE_ERRORS})
def release_user_task(key: Key, all_sessions: Sessions, engine: EngineApi, caller: Actor) -> Accepted:
    """Release a claimed task, so any of its candidates may claim or complete it: its assignee does, or an
    operator among its candidates (for someone who is away)."""
    row, people = _task_for(all_sessions, key, caller)
    return _audited(all_sessions, caller, "release user task", f"user task {key}", row.order_id,
                    lambda: _release(row, people, key, caller, engine))


def _release(row: Row, people: TaskPeople, key: int, caller: Caller, engine: Engine) -> Accepted:
    _open(row, key)
    _refuse(lambda: check_release(people, _person(caller)))
    _ask_engine(lambda: engine.unassign_user_task(key))
    return Accepted(detail=f"user task {key} released by {caller.username} (it was {people.assignee}'s)")


class CompleteTask(BaseModel):
    variables: dict[Identifier, Text] = Field(
        max_length=20, description="what the form sets, e.g. {\"decision\": \"continue\"}, "
                                   "or {\"review\": \"approve\", \"reviewNote\": \"...\"}")


@router.post("/user-tasks/{key}/completion", dependencies=TASK_WORKERS, status_code=202, response_model=Accepted,
             responses={**NOT_JSON, 404: NOT_FOUND, **TASK_REFUSALS, **ENGINE_ERRORS,
                        422: problem("The variables are not what the task's form asks for")})
def complete_user_task(key: Key, body: CompleteTask, all_sessions: Sessions, engine: EngineApi,
                       caller: Actor) -> Accepted:
    """Complete an open user task with its form's answer: a candidate completes an unclaimed task or their own; a
    task someone else claimed only they complete."""
    row, people = _task_for(all_sessions, key, caller)
    return _audited(all_sessions, caller, "complete user task", f"user task {key}", row.order_id,
                    lambda: _complete(row, people, key, body, caller, engine))


def _complete(row: Row, people: TaskPeople, key: int, body: CompleteTask, caller: Caller,
              engine: Engine) -> Accepted:
    _open(row, key)
    _refuse(lambda: check_complete(people, _person(caller)))
    form = form_of(row.forms, row.element_id)
    if form is None:
        raise HTTPException(409, detail=f"the form of user task {key} is not known to the monitor")
    try:
        variables = form.answer(body.variables)
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    _ask_engine(lambda: engine.complete_user_task(key, variables))
    return Accepted(detail=f"user task {key} completed with {variables} by {caller.username}")


# --- the page ------------------------------------------------------------------------------------------------

@router.get("/", dependencies=[PUBLIC], include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(WEB / "index.html")
