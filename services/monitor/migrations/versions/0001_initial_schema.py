"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox, drop_tables

revision, down_revision = "0001", None


ACTIVE = sa.text("state = 'ACTIVE'")


def upgrade() -> None:
    op.create_table(
        "definitions",
        col.engine_key(primary=True), col.label("bpmn_process_id", 255), col.count("version"),
        col.label("name", 255, nullable=True), col.label("resource_name", 255), col.prose("bpmn_xml"),
        col.document("forms"), col.moment("deployed_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("definitions_by_process", "definitions", ["bpmn_process_id", "version"], unique=False)
    op.create_table(
        "element_instances",
        col.engine_key(primary=True), col.engine_key("instance_key"), col.engine_key("definition_key"),
        col.label("element_id", 255), col.label("element_type", 40), col.label("state", 16),
        col.moment("entered_at"), col.moment("left_at", nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("element_instances_active", "element_instances", ["definition_key", "element_id"], unique=False,
                    postgresql_where=ACTIVE)
    op.create_index(op.f("ix_element_instances_instance_key"), "element_instances", ["instance_key"], unique=False)
    op.create_table(
        "incidents",
        col.engine_key(primary=True), col.engine_key("instance_key"), col.engine_key("definition_key"),
        col.label("element_id", 255), col.engine_key("element_instance_key"), col.label("error_type", 64),
        col.prose("message"), col.engine_key("job_key", nullable=True), col.label("state", 16),
        col.moment("created_at"), col.moment("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("incidents_open", "incidents", ["definition_key", "element_id"], unique=False,
                    postgresql_where=ACTIVE)
    op.create_index("incidents_open_by_age", "incidents", ["created_at"], unique=False, postgresql_where=ACTIVE)
    op.create_index(op.f("ix_incidents_instance_key"), "incidents", ["instance_key"], unique=False)
    op.create_table(
        "instances",
        col.engine_key(primary=True), col.engine_key("definition_key"), col.label("bpmn_process_id", 255),
        col.count("version"), col.engine_key("parent_key", nullable=True), col.label("state", 16),
        col.label("order_id", 100, nullable=True),
        col.moment("started_at"), col.moment("ended_at", nullable=True), col.moment("last_record_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("instances_by_definition", "instances", ["definition_key", "state"], unique=False)
    op.create_index("instances_by_start", "instances", ["started_at", "key"], unique=False)
    op.create_index("instances_by_state", "instances", ["state", "started_at", "key"], unique=False)
    op.create_index("instances_idle", "instances", ["last_record_at"], unique=False, postgresql_where=ACTIVE)
    op.create_index(op.f("ix_instances_order_id"), "instances", ["order_id"], unique=False)
    op.create_index(op.f("ix_instances_parent_key"), "instances", ["parent_key"], unique=False)
    op.create_table(
        "projected_positions",
        *(sa.Column(name, sa.Integer(), autoincrement=False, nullable=False)
          for name in ("topic_partition", "engine_partition")),
        col.engine_key("position"),
        sa.PrimaryKeyConstraint("topic_partition", "engine_partition"),
    )
    op.create_table(
        "taken_flows",
        col.engine_key(primary=True), col.engine_key("instance_key"), col.label("element_id", 255),
        col.moment("taken_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_taken_flows_instance_key"), "taken_flows", ["instance_key"], unique=False)
    op.create_table(
        "user_tasks",
        col.engine_key(primary=True), col.engine_key("instance_key"), col.engine_key("definition_key"),
        col.label("element_id", 255), col.engine_key("element_instance_key"), col.label("assignee", 255, nullable=True),
        col.document("candidate_groups"), col.document("candidate_users"), col.label("due_date", 64, nullable=True),
        col.label("state", 16), col.moment("created_at"), col.moment("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_user_tasks_instance_key"), "user_tasks", ["instance_key"], unique=False)
    op.create_index("user_tasks_open", "user_tasks", ["created_at"], unique=False,
                    postgresql_where=sa.text("state = 'CREATED'"))
    op.create_table(
        "variables",
        col.engine_key(primary=True), col.engine_key("instance_key"), col.engine_key("scope_key"),
        col.label("name", 255), col.prose("value"), col.moment("updated_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_variables_instance_key"), "variables", ["instance_key"], unique=False)
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    drop_tables("variables", "user_tasks", "taken_flows", "projected_positions", "instances", "incidents",
                "element_instances", "definitions")
