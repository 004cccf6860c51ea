"""Finished production orders indexed by when they were requested: the retention removes the oldest, a batch at
a time."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    create_index_concurrently("production_orders_finished", "production_orders", ["created_at"],
                              postgresql_where=sa.text("status <> 'REQUESTED'"))


def downgrade() -> None:
    drop_index_concurrently("production_orders_finished", "production_orders")
