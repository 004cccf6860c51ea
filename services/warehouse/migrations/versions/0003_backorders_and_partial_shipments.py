"""Backorders and partial shipments."""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table('backorders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expedited', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['stock.sku'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'sku', name='backorders_one_per_order_line')
    )
    op.create_index(op.f('ix_backorders_order_id'), 'backorders', ['order_id'], unique=False)
    op.add_column('reservations', sa.Column('picked', sa.Integer(), server_default='0', nullable=False))
    op.add_column('shipments', sa.Column('shipment_no', sa.Integer(), server_default='1', nullable=False))
    op.alter_column('shipments', 'shipment_no', server_default=None)
    # Before this revision a reservation was picked whole; its picked count is its reserved count.
    op.execute("UPDATE reservations SET picked = reserved, status = 'reserved' WHERE status = 'picked'")
    op.drop_constraint(op.f('shipments_order_id_key'), 'shipments', type_='unique')
    op.create_unique_constraint('shipments_one_per_order_and_number', 'shipments', ['order_id', 'shipment_no'])


def downgrade() -> None:
    op.drop_constraint('shipments_one_per_order_and_number', 'shipments', type_='unique')
    op.create_unique_constraint(op.f('shipments_order_id_key'), 'shipments', ['order_id'], postgresql_nulls_not_distinct=False)
    op.drop_column('shipments', 'shipment_no')
    op.drop_column('reservations', 'picked')
    op.drop_index(op.f('ix_backorders_order_id'), table_name='backorders')
    op.drop_table('backorders')
