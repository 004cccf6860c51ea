"""The replenishment-requested event each production order came from: the causation of its items-produced."""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column('production_orders', sa.Column('requested_by_event', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('production_orders', 'requested_by_event')
