"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table('shipments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_table('stock',
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('sku')
    )
    op.create_table('reservations',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('requested', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['stock.sku'], ),
    sa.PrimaryKeyConstraint('order_id', 'sku')
    )
    op.create_table('shipment_lines',
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], ),
    sa.PrimaryKeyConstraint('shipment_id', 'sku')
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table('shipment_lines')
    op.drop_table('reservations')
    op.drop_table('stock')
    op.drop_table('shipments')
