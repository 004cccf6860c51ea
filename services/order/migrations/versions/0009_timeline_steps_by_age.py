"""Timeline entries between an order's placing and its end, indexed by when they happened: the retention removes
the oldest of final orders, a batch at a time."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0009", "0008"


def upgrade() -> None:
    create_index_concurrently("order_timeline_steps", "order_timeline", ["at"], postgresql_where=sa.text(
        "status NOT IN ('CANCELLED', 'COMPLETED', 'DELIVERY_FAILED', 'PLACED')"))


def downgrade() -> None:
    drop_index_concurrently("order_timeline_steps", "order_timeline")
