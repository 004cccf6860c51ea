"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table('backorder_facts',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('request_id')
    )
    op.create_index(op.f('ix_backorder_facts_order_id'), 'backorder_facts', ['order_id'], unique=False)
    op.create_table('deadline_breaches',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('order_facts',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_pass_full', sa.Boolean(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('order_id')
    )
    op.create_table('production_facts',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('produced_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table('production_facts')
    op.drop_table('order_facts')
    op.drop_table('deadline_breaches')
    op.drop_index(op.f('ix_backorder_facts_order_id'), table_name='backorder_facts')
    op.drop_table('backorder_facts')
