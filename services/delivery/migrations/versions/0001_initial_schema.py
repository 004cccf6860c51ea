"""Initial schema."""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('courier', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'shipment_id', name='deliveries_one_per_shipment')
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table('deliveries')
