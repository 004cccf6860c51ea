"""What the monitor's pages ask: each answer is one indexed query or a few, paginated, never a scan of all records."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Text, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.engine import Connection

from services.monitor.db import (
    definitions,
    element_instances,
    incidents,
    instance_migrations,
    instances,
    taken_flows,
    user_tasks,
    variables,
)
from services.monitor.domain import IncidentState, InstanceState, TaskState

# Elements that only hold others: an instance waits at the element inside, not at these.
CONTAINERS = ("SUB_PROCESS", "EVENT_SUB_PROCESS", "CALL_ACTIVITY")


def _open_incidents_of(instance_key) -> select:
    return (select(func.count()).select_from(incidents)
            .where(incidents.c.instance_key == instance_key, incidents.c.state == IncidentState.ACTIVE)
            .scalar_subquery())


def definition_list(session: Connection) -> list[Row]:
    """Every deployed version with how many of its instances are active and how many incidents are open."""
    active = (select(instances.c.definition_key, func.count().label("n")).where(
        instances.c.state == InstanceState.ACTIVE).group_by(instances.c.definition_key).subquery())
    open_incidents = (select(incidents.c.definition_key, func.count().label("n")).where(
        incidents.c.state == IncidentState.ACTIVE).group_by(incidents.c.definition_key).subquery())
    return session.execute(
        select(definitions.c.key, definitions.c.bpmn_process_id, definitions.c.version, definitions.c.name,
               definitions.c.resource_name, definitions.c.deployed_at, definitions.c.version_tag,
               func.coalesce(active.c.n, 0).label("active_instances"),
               func.coalesce(open_incidents.c.n, 0).label("open_incidents"))
        .outerjoin(active, active.c.definition_key == definitions.c.key)
        .outerjoin(open_incidents, open_incidents.c.definition_key == definitions.c.key)
        .order_by(definitions.c.bpmn_process_id, definitions.c.version.desc())).all()


def definition(session: Connection, key: int) -> Row | None:
    return session.execute(select(definitions).where(definitions.c.key == key)).first()


def definition_of_version(session: Connection, bpmn_process_id: str, version: int) -> Row | None:
    return session.execute(select(definitions).where(definitions.c.bpmn_process_id == bpmn_process_id,
                                                     definitions.c.version == version)).first()


def definition_in_deployment(session: Connection, bpmn_process_id: str, deployment_key: int) -> Row | None:
    """The process deployed together with another: what that one calls, with bindingType="deployment"."""
    return session.execute(select(definitions).where(definitions.c.bpmn_process_id == bpmn_process_id,
                                                     definitions.c.deployment_key == deployment_key)).first()


def running_roots(session: Connection, definition_key: int, after: int, limit: int) -> tuple[int, list[Row]]:
    """Active instances of a definition that no other instance called, by key from `after` on, and how many
    there are from `after` on."""
    conditions = and_(instances.c.definition_key == definition_key, instances.c.state == InstanceState.ACTIVE,
                      instances.c.parent_key.is_(None), instances.c.key > after)
    total = session.execute(select(func.count()).select_from(instances).where(conditions)).scalar_one()
    rows = session.execute(select(instances).where(conditions).order_by(instances.c.key).limit(limit)).all()
    return total, rows


def running_children(session: Connection, parent_keys: list[int]) -> list[Row]:
    """The active instances these called, with their definition's version tag."""
    return session.execute(
        select(instances, definitions.c.version_tag)
        .outerjoin(definitions, definitions.c.key == instances.c.definition_key)
        .where(instances.c.parent_key.in_(parent_keys), instances.c.state == InstanceState.ACTIVE)
        .order_by(instances.c.key)).all()


def active_elements(session: Connection, instance_keys: list[int]) -> dict[int, list[str]]:
    """The element ids active in each instance now."""
    found: dict[int, list[str]] = {key: [] for key in instance_keys}
    for instance_key, element_id in session.execute(
            select(element_instances.c.instance_key, element_instances.c.element_id)
            .where(element_instances.c.instance_key.in_(instance_keys),
                   element_instances.c.state == InstanceState.ACTIVE)
            .order_by(element_instances.c.entered_at, element_instances.c.key)):
        found[instance_key].append(element_id)
    return found


def element_statistics(session: Connection, definition_key: int) -> dict[str, dict[str, int]]:
    """For each element of the definition with something on it: instances there now, and open incidents."""
    found: dict[str, dict[str, int]] = {}
    active = session.execute(
        select(element_instances.c.element_id, func.count())
        .where(element_instances.c.definition_key == definition_key,
               element_instances.c.state == InstanceState.ACTIVE)
        .group_by(element_instances.c.element_id)).all()
    for element_id, count in active:
        found.setdefault(element_id, {"active": 0, "incidents": 0})["active"] = count
    failing = session.execute(
        select(incidents.c.element_id, func.count())
        .where(incidents.c.definition_key == definition_key, incidents.c.state == IncidentState.ACTIVE)
        .group_by(incidents.c.element_id)).all()
    for element_id, count in failing:
        found.setdefault(element_id, {"active": 0, "incidents": 0})["incidents"] = count
    return found


@dataclass(frozen=True)
class InstanceFilter:
    state: InstanceState | None = None
    order_id: str | None = None
    with_incident: bool | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    bpmn_process_id: str | None = None
    definition_key: int | None = None

    def conditions(self) -> list:
        found = []
        if self.state is not None:
            found.append(instances.c.state == self.state)
        if self.order_id is not None:
            found.append(instances.c.order_id == self.order_id)
        if self.with_incident is not None:
            failing = exists().where(incidents.c.instance_key == instances.c.key,
                                     incidents.c.state == IncidentState.ACTIVE)
            found.append(failing if self.with_incident else ~failing)
        if self.started_from is not None:
            found.append(instances.c.started_at >= self.started_from)
        if self.started_to is not None:
            found.append(instances.c.started_at < self.started_to)
        if self.bpmn_process_id is not None:
            found.append(instances.c.bpmn_process_id == self.bpmn_process_id)
        if self.definition_key is not None:
            found.append(instances.c.definition_key == self.definition_key)
        return found


def instance_page(session: Connection, where: InstanceFilter, limit: int, offset: int) -> tuple[int, list[Row]]:
    """The matching instances, newest first, one page of them, and how many match in all."""
    conditions = and_(True, *where.conditions())
    total = session.execute(select(func.count()).select_from(instances).where(conditions)).scalar_one()
    rows = session.execute(
        select(instances, _open_incidents_of(instances.c.key).label("open_incidents"))
        .where(conditions).order_by(instances.c.started_at.desc(), instances.c.key.desc())
        .limit(limit).offset(offset)).all()
    return total, rows


def instance(session: Connection, key: int) -> Row | None:
    return session.execute(select(instances, _open_incidents_of(instances.c.key).label("open_incidents"))
                           .where(instances.c.key == key)).first()


@dataclass(frozen=True)
class InstanceDetail:
    """What the instance's page shows besides the instance itself."""

    elements: list[Row]
    taken_flows: list[str]
    incidents: list[Row]
    user_tasks: list[Row]
    variables: list[Row]
    children: list[Row]
    forms: dict[str, str] | None
    version_tag: str | None
    migrations: list[Row]


def instance_detail(session: Connection, key: int, definition_key: int) -> InstanceDetail:
    def rows(statement):
        return session.execute(statement).all()

    return InstanceDetail(
        elements=rows(select(element_instances).where(element_instances.c.instance_key == key)
                      .order_by(element_instances.c.entered_at, element_instances.c.key)),
        taken_flows=[r.element_id for r in rows(select(taken_flows.c.element_id)
                                                .where(taken_flows.c.instance_key == key)
                                                .order_by(taken_flows.c.taken_at, taken_flows.c.key))],
        incidents=rows(select(incidents).where(incidents.c.instance_key == key).order_by(incidents.c.created_at)),
        user_tasks=rows(select(user_tasks).where(user_tasks.c.instance_key == key).order_by(user_tasks.c.created_at)),
        variables=rows(select(variables).where(variables.c.instance_key == key)
                       .order_by(variables.c.scope_key != key, variables.c.name)),
        children=rows(select(instances.c.key, instances.c.bpmn_process_id, instances.c.version, instances.c.state)
                      .where(instances.c.parent_key == key).order_by(instances.c.started_at)),
        forms=session.execute(select(definitions.c.forms).where(definitions.c.key == definition_key)).scalar(),
        version_tag=session.execute(select(definitions.c.version_tag)
                                    .where(definitions.c.key == definition_key)).scalar(),
        migrations=rows(select(instance_migrations).where(instance_migrations.c.instance_key == key)
                        .order_by(instance_migrations.c.migrated_at)),
    )


_INCIDENT_COLUMNS = (incidents, instances.c.order_id, instances.c.bpmn_process_id)


def incident_page(session: Connection, state: IncidentState | None, limit: int, offset: int) -> tuple[int, list[Row]]:
    """Incidents (open ones first by default), oldest first, with the order of the instance they stop."""
    conditions = and_(True, *([incidents.c.state == state] if state else []))
    total = session.execute(select(func.count()).select_from(incidents).where(conditions)).scalar_one()
    rows = session.execute(
        select(*_INCIDENT_COLUMNS).outerjoin(instances, instances.c.key == incidents.c.instance_key)
        .where(conditions).order_by(incidents.c.created_at, incidents.c.key).limit(limit).offset(offset)).all()
    return total, rows


def incident(session: Connection, key: int) -> Row | None:
    return session.execute(select(*_INCIDENT_COLUMNS)
                           .outerjoin(instances, instances.c.key == incidents.c.instance_key)
                           .where(incidents.c.key == key)).first()


_TASK_COLUMNS = (user_tasks, instances.c.order_id, instances.c.bpmn_process_id, definitions.c.forms)


def _tasks():
    return (select(*_TASK_COLUMNS).outerjoin(instances, instances.c.key == user_tasks.c.instance_key)
            .outerjoin(definitions, definitions.c.key == user_tasks.c.definition_key))


@dataclass(frozen=True)
class Candidate:
    """Only the tasks whose candidates include this user, by name or by one of their groups."""

    username: str
    groups: frozenset[str]


def user_task_page(session: Connection, state: TaskState | None, limit: int, offset: int,
                   candidate: Candidate | None = None) -> tuple[int, list[Row]]:
    conditions = and_(True, *([user_tasks.c.state == state] if state else []))
    if candidate is not None:
        theirs = [user_tasks.c.candidate_users.has_key(candidate.username), user_tasks.c.assignee == candidate.username]
        if candidate.groups:
            theirs.append(user_tasks.c.candidate_groups.has_any(array(sorted(candidate.groups), type_=Text)))
        conditions = and_(conditions, or_(*theirs))
    total = session.execute(select(func.count()).select_from(user_tasks).where(conditions)).scalar_one()
    rows = session.execute(_tasks().where(conditions).order_by(user_tasks.c.created_at, user_tasks.c.key)
                           .limit(limit).offset(offset)).all()
    return total, rows


def user_task(session: Connection, key: int) -> Row | None:
    return session.execute(_tasks().where(user_tasks.c.key == key)).first()


# Elements whose work is a job: a job that stopped recurring leaves its instance idle at one of these.
JOB_ELEMENTS = ("SERVICE_TASK", "SEND_TASK", "SCRIPT_TASK", "BUSINESS_RULE_TASK")


def stuck_jobs(session: Connection, idle_since: datetime, limit: int) -> list[Row]:
    """Job elements of active instances the engine wrote nothing about since `idle_since` (no job record:
    not activated, failed, timed out or retried) and with no open incident: a job that stopped recurring.
    An incident is a person's to resolve, so those are left out."""
    return session.execute(
        select(element_instances.c.key, element_instances.c.instance_key, element_instances.c.element_id,
               element_instances.c.flow_scope_key, instances.c.order_id, instances.c.last_record_at)
        .join(instances, instances.c.key == element_instances.c.instance_key)
        .where(element_instances.c.state == InstanceState.ACTIVE,
               element_instances.c.element_type.in_(JOB_ELEMENTS),
               instances.c.state == InstanceState.ACTIVE, instances.c.last_record_at < idle_since,
               ~exists().where(incidents.c.element_instance_key == element_instances.c.key,
                               incidents.c.state == IncidentState.ACTIVE))
        .order_by(instances.c.last_record_at).limit(limit)).all()


def stalled(session: Connection, idle_since: datetime, limit: int) -> list[Row]:
    """Active instances the engine wrote nothing about since `idle_since`, longest idle first, with where they
    wait (None: nowhere yet). A parent whose called instance is active is not idle: the called one is reported
    if it is."""
    waiting_at = (select(func.array_agg(element_instances.c.element_id))
                  .where(element_instances.c.instance_key == instances.c.key,
                         element_instances.c.state == InstanceState.ACTIVE,
                         element_instances.c.element_type.not_in(CONTAINERS))
                  .scalar_subquery())
    children = instances.alias("children")
    return session.execute(
        select(instances, waiting_at.label("waiting_at"), _open_incidents_of(instances.c.key).label("open_incidents"))
        .where(instances.c.state == InstanceState.ACTIVE, instances.c.last_record_at < idle_since,
               ~exists().where(children.c.parent_key == instances.c.key,
                               children.c.state == InstanceState.ACTIVE))
        .order_by(instances.c.last_record_at).limit(limit)).all()
