"""Backorders and shipments in the read model."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table('order_shipments',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('order_id', 'shipment_id')
    )
    op.add_column('orders', sa.Column('accepts_partial', sa.Boolean(), server_default='true', nullable=False))
    op.add_column('orders', sa.Column('reserved', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('orders', sa.Column('backorder_open', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('orders', 'backorder_open')
    op.drop_column('orders', 'reserved')
    op.drop_column('orders', 'accepts_partial')
    op.drop_table('order_shipments')
