"""When an order was reserved and when its delivery failed, for the figures over time.

Orders recorded before this migration keep no such time: they count in the totals, not in the charts over time.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column('order_facts', sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('order_facts', sa.Column('delivery_failed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('order_facts', 'delivery_failed_at')
    op.drop_column('order_facts', 'reserved_at')
