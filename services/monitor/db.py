"""The monitor's tables, one row per definition, instance, element instance, incident, user task and variable,
and how each change of the projection (domain.py) lands in them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Connection
from sqlalchemy.schema import Column, Index, MetaData, Table
from sqlalchemy.types import BigInteger, DateTime, Integer, String, Text

from services.monitor.domain import (
    Change,
    DefinitionDeployed,
    ElementEntered,
    ElementLeft,
    ElementMigrated,
    FlowTaken,
    IncidentMigrated,
    IncidentOpened,
    IncidentResolved,
    IncidentState,
    InstanceEnded,
    InstanceMigrated,
    InstanceStarted,
    InstanceState,
    OrderIdentified,
    Progress,
    TaskState,
    UserTaskChanged,
    UserTaskClosed,
    UserTaskMigrated,
    UserTaskOpened,
    VariableSet,
    order_id_from,
)
from shared.contracts.process import ORDER_ID_VARIABLE
from shared.runtime.operations import tables as operation_tables

metadata = MetaData()
# Batch operations (retry these incidents) and their items (shared.runtime.operations).
operations, operation_items = operation_tables(metadata)
# Who did what: every operator action with its actor (the token's subject), target, time and result (audit.py).
audit = Table(
    "audit", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target", String(100), nullable=False),
    Column("order_id", String(100)),
    Column("result", Text, nullable=False),
    Index("audit_by_order", "order_id", "at"),
    Index("audit_by_actor", "actor", "at"),
    Index("audit_by_age", "at"),
)

ACTIVE = text("state = 'ACTIVE'")

definitions = Table(
    "definitions", metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("bpmn_process_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(255)),
    Column("resource_name", String(255), nullable=False),
    Column("bpmn_xml", Text, nullable=False),
    Column("forms", JSONB, nullable=False),
    Column("deployed_at", DateTime(timezone=True), nullable=False),
    Column("version_tag", String(255)),
    Column("deployment_key", BigInteger),
    Index("definitions_by_process", "bpmn_process_id", "version"),
    Index("definitions_by_deployment", "deployment_key"),
)


def _at_an_element() -> list[Column]:
    """The columns of everything that happens at one element of an instance: its engine key, where it happens."""
    return [
        Column("key", BigInteger, primary_key=True, autoincrement=False),
        Column("instance_key", BigInteger, nullable=False, index=True),
        Column("definition_key", BigInteger, nullable=False),
        Column("element_id", String(255), nullable=False),
    ]


instances = Table(
    "instances", metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("definition_key", BigInteger, nullable=False),
    Column("bpmn_process_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("parent_key", BigInteger, index=True),
    Column("state", String(16), nullable=False),
    Column("order_id", String(100), index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    # When the engine last wrote anything about it (its own clock): how long it has been idle.
    Column("last_record_at", DateTime(timezone=True), nullable=False),
    # The list pages newest first, with or without a state.
    Index("instances_by_start", "started_at", "key"),
    Index("instances_by_state", "state", "started_at", "key"),
    Index("instances_by_definition", "definition_key", "state"),
    Index("instances_idle", "last_record_at", postgresql_where=ACTIVE),
    # What the retention removes, the longest ended first.
    Index("instances_by_end", "ended_at"),
)

element_instances = Table(
    "element_instances", metadata,
    *_at_an_element(),
    Column("element_type", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("left_at", DateTime(timezone=True)),
    Column("flow_scope_key", BigInteger),
    # How many instances of a definition are at each element now: only the active rows, a small index.
    Index("element_instances_active", "definition_key", "element_id", postgresql_where=ACTIVE),
)

taken_flows = Table(
    "taken_flows", metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False, index=True),
    Column("element_id", String(255), nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
)

incidents = Table(
    "incidents", metadata,
    *_at_an_element(),
    Column("element_instance_key", BigInteger, nullable=False),
    Column("error_type", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("job_key", BigInteger),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Index("incidents_open", "definition_key", "element_id", postgresql_where=ACTIVE),
    Index("incidents_open_by_age", "created_at", postgresql_where=ACTIVE),
)

user_tasks = Table(
    "user_tasks", metadata,
    *_at_an_element(),
    Column("element_instance_key", BigInteger, nullable=False),
    Column("assignee", String(255)),
    Column("candidate_groups", JSONB, nullable=False),
    Column("candidate_users", JSONB, nullable=False),
    Column("due_date", String(64)),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Index("user_tasks_open", "created_at", postgresql_where=text("state = 'CREATED'")),
)

variables = Table(
    "variables", metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False, index=True),
    Column("scope_key", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Each time the engine moved a running instance to another definition: from which version to which, when.
instance_migrations = Table(
    "instance_migrations", metadata,
    Column("instance_key", BigInteger, primary_key=True, autoincrement=False),
    Column("from_definition_key", BigInteger, nullable=False),
    Column("from_version", Integer, nullable=False),
    Column("to_definition_key", BigInteger, primary_key=True, autoincrement=False),
    Column("to_version", Integer, nullable=False),
    Column("migrated_at", DateTime(timezone=True), primary_key=True),
)

projected_positions = Table(
    "projected_positions", metadata,
    # Per Kafka partition of the records topic, records arrive in position order for each engine partition.
    Column("topic_partition", Integer, primary_key=True, autoincrement=False),
    Column("engine_partition", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
)


def forget_ended_instances(session: Connection, kept_for: timedelta, batch: int = 200) -> int:
    """Remove up to `batch` instances that ended more than `kept_for` ago with every row about them; returns how
    many went.

    An active instance keeps everything, and so do the instances it called, which its page lists. A record about
    a removed instance that comes again is recognised by its position (projected_positions) and not applied.
    """
    parent = instances.alias("parent")
    calling_active = select(parent.c.key).where(parent.c.key == instances.c.parent_key,
                                                parent.c.state == InstanceState.ACTIVE)
    ended = session.execute(
        select(instances.c.key)
        .where(instances.c.ended_at < func.now() - kept_for, ~calling_active.exists())
        .order_by(instances.c.ended_at).limit(batch)
        .with_for_update(skip_locked=True)  # another replica's round takes others
    ).scalars().all()
    if not ended:
        return 0
    for table in (element_instances, taken_flows, incidents, user_tasks, variables, instance_migrations):
        session.execute(delete(table).where(table.c.instance_key.in_(ended)))
    session.execute(delete(instances).where(instances.c.key.in_(ended)))
    return len(ended)


def projected_positions_of(session: Connection, partitions: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The last position projected from each (topic partition, engine partition), locked until the transaction
    ends: two consumers handed the same partition in a rebalance take turns, the second sees the first's."""
    if not partitions:
        return {}
    session.execute(insert(projected_positions).on_conflict_do_nothing(), [
        {"topic_partition": topic, "engine_partition": engine, "position": -1} for topic, engine in partitions])
    rows = session.execute(select(projected_positions).where(tuple_(
        projected_positions.c.topic_partition, projected_positions.c.engine_partition).in_(sorted(partitions)))
        .order_by(projected_positions.c.topic_partition, projected_positions.c.engine_partition)
        .with_for_update()).all()
    return {(r.topic_partition, r.engine_partition): r.position for r in rows}


def save_positions(session: Connection, positions: dict[tuple[int, int], int]) -> None:
    if not positions:
        return
    session.execute(update(projected_positions).where(
        projected_positions.c.topic_partition == bindparam("topic"),
        projected_positions.c.engine_partition == bindparam("engine")).values(position=bindparam("at")),
        [{"topic": topic, "engine": engine, "at": at} for (topic, engine), at in positions.items()])


def apply_all(session: Connection, changes: list[Change]) -> None:
    """Lands the changes of records in their order, one statement per kind of change: rows are inserted
    before any of them is updated, and of several updates to one row the last wins."""
    by_kind: dict[type, list] = {}
    for change in changes:
        by_kind.setdefault(type(change), []).append(change)
    for kind, write in _WRITES:
        if kind in by_kind:
            write(session, by_kind[kind])


def _rows(changes: list, **renamed: str) -> list[dict]:
    """Each change's fields as a row; `renamed` maps a column to the field it takes its value from."""
    rows = []
    for change in changes:
        row = dict(vars(change))
        for column, field in renamed.items():
            row[column] = row.pop(field)
        rows.append(row)
    return rows


def _last_per(changes: list, field: str) -> list:
    """Of several changes to one row, the last (records arrive in order)."""
    return list({getattr(change, field): change for change in changes}.values())


def _update_by_key(session: Connection, table: Table, rows: list[dict], key: str = "key") -> None:
    """One UPDATE per row, sent together: `rows` hold the key (as `key`) and the columns to set."""
    columns = [name for name in rows[0] if name != key]
    session.execute(update(table).where(table.c[key] == bindparam("_key"))
                    .values({name: bindparam(f"_{name}") for name in columns}),
                    [{f"_{name}": value for name, value in row.items()} for row in rows])


def _definitions(session: Connection, changes: list[DefinitionDeployed]) -> None:
    session.execute(insert(definitions).on_conflict_do_nothing(), _rows(changes, deployed_at="at"))


def _instances(session: Connection, changes: list[InstanceStarted]) -> None:
    session.execute(insert(instances).on_conflict_do_nothing(), [
        {**row, "state": InstanceState.ACTIVE, "last_record_at": row["started_at"]}
        for row in _rows(changes, started_at="at")])
    # A called instance's variables come before its start: its order id may be known already.
    known = session.execute(select(variables.c.instance_key, variables.c.value).where(
        variables.c.instance_key.in_([c.key for c in changes]), variables.c.scope_key == variables.c.instance_key,
        variables.c.name == ORDER_ID_VARIABLE)).all()
    found = [{"key": instance, "order_id": order_id_from(value)} for instance, value in known]
    if found:
        _update_by_key(session, instances, found)


def _elements(session: Connection, changes: list[ElementEntered]) -> None:
    session.execute(insert(element_instances).on_conflict_do_nothing(),
                    [{**row, "state": InstanceState.ACTIVE} for row in _rows(changes, entered_at="at")])


def _flows(session: Connection, changes: list[FlowTaken]) -> None:
    session.execute(insert(taken_flows).on_conflict_do_nothing(), _rows(changes, taken_at="at"))


def _incidents(session: Connection, changes: list[IncidentOpened]) -> None:
    session.execute(insert(incidents).on_conflict_do_nothing(),
                    [{**row, "state": IncidentState.ACTIVE} for row in _rows(changes, created_at="at")])


def _user_tasks(session: Connection, changes: list[UserTaskOpened]) -> None:
    session.execute(insert(user_tasks).on_conflict_do_nothing(),
                    [{**row, "state": TaskState.CREATED} for row in _rows(changes, created_at="at")])


def _variables(session: Connection, changes: list[VariableSet]) -> None:
    statement = insert(variables)
    session.execute(statement.on_conflict_do_update(
        index_elements=["key"], set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}),
        _rows(_last_per(changes, "key"), updated_at="at"))


def _ended(session: Connection, changes: list[InstanceEnded]) -> None:
    _update_by_key(session, instances, _rows(changes, ended_at="at"))


def _orders(session: Connection, changes: list[OrderIdentified]) -> None:
    _update_by_key(session, instances, _rows(_last_per(changes, "instance_key"), key="instance_key"))


def _progress(session: Connection, changes: list[Progress]) -> None:
    _update_by_key(session, instances, _rows(_last_per(changes, "instance_key"), key="instance_key",
                                             last_record_at="at"))


def _migrated(session: Connection, changes: list[InstanceMigrated]) -> None:
    """The instance follows its new definition; its history keeps the version it left (read before the update)."""
    for change in changes:  # one instance may be migrated twice in one batch: each from where the last left it
        session.execute(insert(instance_migrations).from_select(
            ["instance_key", "from_definition_key", "from_version", "to_definition_key", "to_version", "migrated_at"],
            select(instances.c.key, instances.c.definition_key, instances.c.version,
                   bindparam("to_key", change.definition_key), bindparam("to_version", change.version),
                   bindparam("at", change.at))
            .where(instances.c.key == change.key, instances.c.definition_key != change.definition_key))
            .on_conflict_do_nothing())
        session.execute(update(instances).where(instances.c.key == change.key)
                        .values(definition_key=change.definition_key, version=change.version))


def _moved_to(table: Table):
    def write(session: Connection, changes: list[ElementMigrated]) -> None:
        _update_by_key(session, table, _rows(_last_per(changes, "key")))
    return write


def _left(session: Connection, changes: list[ElementLeft]) -> None:
    _update_by_key(session, element_instances, _rows(changes, left_at="at"))


def _resolved(session: Connection, changes: list[IncidentResolved]) -> None:
    _update_by_key(session, incidents, [{"key": c.key, "state": IncidentState.RESOLVED, "resolved_at": c.at}
                                        for c in changes])


def _task_changes(session: Connection, changes: list[UserTaskChanged]) -> None:
    _update_by_key(session, user_tasks, _rows(_last_per(changes, "key")))


def _tasks_closed(session: Connection, changes: list[UserTaskClosed]) -> None:
    _update_by_key(session, user_tasks, _rows(changes, ended_at="at"))


# Inserts first, then updates: a row a record changes may have been created by an earlier one of the batch.
_WRITES = [
    (DefinitionDeployed, _definitions), (VariableSet, _variables), (InstanceStarted, _instances),
    (ElementEntered, _elements), (FlowTaken, _flows), (IncidentOpened, _incidents), (UserTaskOpened, _user_tasks),
    (InstanceEnded, _ended), (OrderIdentified, _orders), (Progress, _progress), (ElementLeft, _left),
    (IncidentResolved, _resolved), (UserTaskChanged, _task_changes), (UserTaskClosed, _tasks_closed),
    (InstanceMigrated, _migrated), (ElementMigrated, _moved_to(element_instances)),
    (IncidentMigrated, _moved_to(incidents)), (UserTaskMigrated, _moved_to(user_tasks)),
]
