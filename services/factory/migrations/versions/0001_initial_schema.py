"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table('production_orders',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table('production_orders')
