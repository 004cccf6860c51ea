"""Closed orders."""
from shared.runtime.migrations import create_closed_keys_table, drop_closed_keys_table

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    create_closed_keys_table("closed_orders", "order_id")


def downgrade() -> None:
    drop_closed_keys_table("closed_orders")
