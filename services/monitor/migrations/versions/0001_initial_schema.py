"""Initial schema."""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table('definitions',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('bpmn_process_id', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('forms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('definitions_by_process', 'definitions', ['bpmn_process_id', 'version'], unique=False)
    op.create_table('element_instances',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('instance_key', sa.BigInteger(), nullable=False),
    sa.Column('definition_key', sa.BigInteger(), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('element_type', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('element_instances_active', 'element_instances', ['definition_key', 'element_id'], unique=False, postgresql_where=sa.text("state = 'ACTIVE'"))
    op.create_index(op.f('ix_element_instances_instance_key'), 'element_instances', ['instance_key'], unique=False)
    op.create_table('incidents',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('instance_key', sa.BigInteger(), nullable=False),
    sa.Column('definition_key', sa.BigInteger(), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('element_instance_key', sa.BigInteger(), nullable=False),
    sa.Column('error_type', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('job_key', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('incidents_open', 'incidents', ['definition_key', 'element_id'], unique=False, postgresql_where=sa.text("state = 'ACTIVE'"))
    op.create_index('incidents_open_by_age', 'incidents', ['created_at'], unique=False, postgresql_where=sa.text("state = 'ACTIVE'"))
    op.create_index(op.f('ix_incidents_instance_key'), 'incidents', ['instance_key'], unique=False)
    op.create_table('instances',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('definition_key', sa.BigInteger(), nullable=False),
    sa.Column('bpmn_process_id', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('parent_key', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_record_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('instances_by_definition', 'instances', ['definition_key', 'state'], unique=False)
    op.create_index('instances_by_start', 'instances', ['started_at', 'key'], unique=False)
    op.create_index('instances_by_state', 'instances', ['state', 'started_at', 'key'], unique=False)
    op.create_index('instances_idle', 'instances', ['last_record_at'], unique=False, postgresql_where=sa.text("state = 'ACTIVE'"))
    op.create_index(op.f('ix_instances_order_id'), 'instances', ['order_id'], unique=False)
    op.create_index(op.f('ix_instances_parent_key'), 'instances', ['parent_key'], unique=False)
    op.create_table('projected_positions',
    sa.Column('topic_partition', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('engine_partition', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('topic_partition', 'engine_partition')
    )
    op.create_table('taken_flows',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('instance_key', sa.BigInteger(), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_taken_flows_instance_key'), 'taken_flows', ['instance_key'], unique=False)
    op.create_table('user_tasks',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('instance_key', sa.BigInteger(), nullable=False),
    sa.Column('definition_key', sa.BigInteger(), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('element_instance_key', sa.BigInteger(), nullable=False),
    sa.Column('assignee', sa.String(length=255), nullable=True),
    sa.Column('candidate_groups', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('candidate_users', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('due_date', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_user_tasks_instance_key'), 'user_tasks', ['instance_key'], unique=False)
    op.create_index('user_tasks_open', 'user_tasks', ['created_at'], unique=False, postgresql_where=sa.text("state = 'CREATED'"))
    op.create_table('variables',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('instance_key', sa.BigInteger(), nullable=False),
    sa.Column('scope_key', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_variables_instance_key'), 'variables', ['instance_key'], unique=False)
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_index(op.f('ix_variables_instance_key'), table_name='variables')
    op.drop_table('variables')
    op.drop_index('user_tasks_open', table_name='user_tasks', postgresql_where=sa.text("state = 'CREATED'"))
    op.drop_index(op.f('ix_user_tasks_instance_key'), table_name='user_tasks')
    op.drop_table('user_tasks')
    op.drop_index(op.f('ix_taken_flows_instance_key'), table_name='taken_flows')
    op.drop_table('taken_flows')
    op.drop_table('projected_positions')
    op.drop_index(op.f('ix_instances_parent_key'), table_name='instances')
    op.drop_index(op.f('ix_instances_order_id'), table_name='instances')
    op.drop_index('instances_idle', table_name='instances', postgresql_where=sa.text("state = 'ACTIVE'"))
    op.drop_index('instances_by_state', table_name='instances')
    op.drop_index('instances_by_start', table_name='instances')
    op.drop_index('instances_by_definition', table_name='instances')
    op.drop_table('instances')
    op.drop_index(op.f('ix_incidents_instance_key'), table_name='incidents')
    op.drop_index('incidents_open_by_age', table_name='incidents', postgresql_where=sa.text("state = 'ACTIVE'"))
    op.drop_index('incidents_open', table_name='incidents', postgresql_where=sa.text("state = 'ACTIVE'"))
    op.drop_table('incidents')
    op.drop_index(op.f('ix_element_instances_instance_key'), table_name='element_instances')
    op.drop_index('element_instances_active', table_name='element_instances', postgresql_where=sa.text("state = 'ACTIVE'"))
    op.drop_table('element_instances')
    op.drop_index('definitions_by_process', table_name='definitions')
    op.drop_table('definitions')
