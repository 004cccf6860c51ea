"""production line switch

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:59:37.543978
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('production_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('running', sa.Boolean(), server_default='true', nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('production_line')
