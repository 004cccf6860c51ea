"""Closed orders indexed by when they were closed, and hand-overs by their delivery: the retention removes the
longest closed orders with their deliveries, a batch at a time."""
from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0005", "0004"

INDEXES = [("closed_orders_by_age", "closed_orders", ["closed_at"]),
           ("redispatches_by_delivery", "redispatches", ["delivery_id"])]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        create_index_concurrently(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        drop_index_concurrently(name, table)
