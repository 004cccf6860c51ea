"""closed orders

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:21:47.877262
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closed_orders',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('order_id')
    )


def downgrade() -> None:
    op.drop_table('closed_orders')
