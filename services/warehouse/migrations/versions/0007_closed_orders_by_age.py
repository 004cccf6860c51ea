"""Closed orders indexed by when they were closed: the retention removes the longest closed, a batch at a time."""
from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0007", "0006"


def upgrade() -> None:
    create_index_concurrently("closed_orders_by_age", "closed_orders", ["closed_at"])


def downgrade() -> None:
    drop_index_concurrently("closed_orders_by_age", "closed_orders")
