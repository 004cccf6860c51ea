"""The monitor's tables, one row per definition, instance, element instance, incident, user task and variable,
and how each change of the projection (domain.py) lands in them."""
from __future__ import annotations

from functools import singledispatch

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from contracts.process import ORDER_ID_VARIABLE
from services.monitor.domain import (
    Change,
    DefinitionDeployed,
    ElementEntered,
    ElementLeft,
    FlowTaken,
    IncidentOpened,
    IncidentResolved,
    IncidentState,
    InstanceEnded,
    InstanceStarted,
    InstanceState,
    OrderIdentified,
    Position,
    Progress,
    TaskState,
    UserTaskChanged,
    UserTaskClosed,
    UserTaskOpened,
    VariableSet,
    order_id_from,
)

metadata = MetaData()

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
    Index("definitions_by_process", "bpmn_process_id", "version"),
)

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
)

element_instances = Table(
    "element_instances", metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False, index=True),
    Column("definition_key", BigInteger, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("element_type", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("left_at", DateTime(timezone=True)),
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
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False, index=True),
    Column("definition_key", BigInteger, nullable=False),
    Column("element_id", String(255), nullable=False),
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
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False, index=True),
    Column("definition_key", BigInteger, nullable=False),
    Column("element_id", String(255), nullable=False),
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

projected_positions = Table(
    "projected_positions", metadata,
    # Per Kafka partition of the records topic, records arrive in position order for each engine partition.
    Column("topic_partition", Integer, primary_key=True, autoincrement=False),
    Column("engine_partition", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
)


def claim(session: Session, topic_partition: int, position: Position) -> bool:
    """True if the record is newer than any projected from its partitions; False for a redelivery.

    The row stays locked until the transaction ends, so two consumers handed the same partition in a
    rebalance take turns, and the second sees the first's position.
    """
    statement = insert(projected_positions).values(topic_partition=topic_partition,
                                                   engine_partition=position.partition, position=position.position)
    claimed = session.execute(statement.on_conflict_do_update(
        index_elements=["topic_partition", "engine_partition"],
        set_={"position": statement.excluded.position},
        where=projected_positions.c.position < statement.excluded.position,
    ).returning(projected_positions.c.position)).first()
    return claimed is not None


@singledispatch
def apply(change: Change, session: Session) -> None:
    raise TypeError(f"no table takes a {type(change).__name__}")


@apply.register
def _(change: DefinitionDeployed, session: Session) -> None:
    session.execute(insert(definitions).values(
        key=change.key, bpmn_process_id=change.bpmn_process_id, version=change.version, name=change.name,
        resource_name=change.resource_name, bpmn_xml=change.bpmn_xml, forms=change.forms, deployed_at=change.at,
    ).on_conflict_do_nothing())


@apply.register
def _(change: InstanceStarted, session: Session) -> None:
    # A called instance's variables come before its start: its order id may be known already.
    order_variable = session.execute(select(variables.c.value).where(
        variables.c.instance_key == change.key, variables.c.scope_key == change.key,
        variables.c.name == ORDER_ID_VARIABLE)).scalar()
    session.execute(insert(instances).values(
        key=change.key, definition_key=change.definition_key, bpmn_process_id=change.bpmn_process_id,
        version=change.version, parent_key=change.parent_key, state=InstanceState.ACTIVE, started_at=change.at,
        last_record_at=change.at, order_id=None if order_variable is None else order_id_from(order_variable),
    ).on_conflict_do_nothing())


@apply.register
def _(change: InstanceEnded, session: Session) -> None:
    session.execute(update(instances).where(instances.c.key == change.key)
                    .values(state=change.state, ended_at=change.at))


@apply.register
def _(change: ElementEntered, session: Session) -> None:
    session.execute(insert(element_instances).values(
        key=change.key, instance_key=change.instance_key, definition_key=change.definition_key,
        element_id=change.element_id, element_type=change.element_type, state=InstanceState.ACTIVE,
        entered_at=change.at,
    ).on_conflict_do_nothing())


@apply.register
def _(change: ElementLeft, session: Session) -> None:
    session.execute(update(element_instances).where(element_instances.c.key == change.key)
                    .values(state=change.state, left_at=change.at))


@apply.register
def _(change: FlowTaken, session: Session) -> None:
    session.execute(insert(taken_flows).values(key=change.key, instance_key=change.instance_key,
                                               element_id=change.element_id, taken_at=change.at)
                    .on_conflict_do_nothing())


@apply.register
def _(change: IncidentOpened, session: Session) -> None:
    session.execute(insert(incidents).values(
        key=change.key, instance_key=change.instance_key, definition_key=change.definition_key,
        element_id=change.element_id, element_instance_key=change.element_instance_key,
        error_type=change.error_type, message=change.message, job_key=change.job_key, state=IncidentState.ACTIVE,
        created_at=change.at,
    ).on_conflict_do_nothing())


@apply.register
def _(change: IncidentResolved, session: Session) -> None:
    session.execute(update(incidents).where(incidents.c.key == change.key)
                    .values(state=IncidentState.RESOLVED, resolved_at=change.at))


@apply.register
def _(change: UserTaskOpened, session: Session) -> None:
    session.execute(insert(user_tasks).values(
        key=change.key, instance_key=change.instance_key, definition_key=change.definition_key,
        element_id=change.element_id, element_instance_key=change.element_instance_key, assignee=change.assignee,
        candidate_groups=change.candidate_groups, candidate_users=change.candidate_users,
        due_date=change.due_date, state=TaskState.CREATED, created_at=change.at,
    ).on_conflict_do_nothing())


@apply.register
def _(change: UserTaskChanged, session: Session) -> None:
    session.execute(update(user_tasks).where(user_tasks.c.key == change.key).values(
        assignee=change.assignee, candidate_groups=change.candidate_groups,
        candidate_users=change.candidate_users, due_date=change.due_date))


@apply.register
def _(change: UserTaskClosed, session: Session) -> None:
    session.execute(update(user_tasks).where(user_tasks.c.key == change.key)
                    .values(state=change.state, ended_at=change.at))


@apply.register
def _(change: VariableSet, session: Session) -> None:
    statement = insert(variables).values(key=change.key, instance_key=change.instance_key,
                                         scope_key=change.scope_key, name=change.name, value=change.value,
                                         updated_at=change.at)
    session.execute(statement.on_conflict_do_update(
        index_elements=["key"], set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))


@apply.register
def _(change: OrderIdentified, session: Session) -> None:
    session.execute(update(instances).where(instances.c.key == change.instance_key)
                    .values(order_id=change.order_id))


@apply.register
def _(change: Progress, session: Session) -> None:
    session.execute(update(instances).where(instances.c.key == change.instance_key)
                    .values(last_record_at=change.at))
