"""production timing

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:44:09.203017
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('production_orders', sa.Column('due_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.add_column('production_orders', sa.Column('expedited', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('production_orders', sa.Column('produced_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('production_orders', 'produced_at')
    op.drop_column('production_orders', 'expedited')
    op.drop_column('production_orders', 'due_at')
