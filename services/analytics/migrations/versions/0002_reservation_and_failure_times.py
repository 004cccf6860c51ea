"""When an order was reserved and when its delivery failed, for the figures over time.

Orders recorded before this migration keep no such time: they count in the totals, not in the charts over time.
"""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    add_columns("order_facts", col.moment("reserved_at", nullable=True), col.moment("delivery_failed_at", nullable=True))


def downgrade() -> None:
    drop_columns("order_facts", "delivery_failed_at", "reserved_at")
