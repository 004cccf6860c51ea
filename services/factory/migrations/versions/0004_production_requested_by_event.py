"""The replenishment-requested event each production order came from: the causation of its items-produced."""
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.add_column('production_orders', col.label("requested_by_event", 200, nullable=True))


def downgrade() -> None:
    op.drop_column('production_orders', 'requested_by_event')
