"""Batch operations on orders (cancel or abort many as one) with their items (shared.runtime.operations)."""
from shared.runtime.migrations import create_operations_tables, drop_operations_tables

revision, down_revision = "0014", "0013"  # 0013: the order's trace id


def upgrade() -> None:
    create_operations_tables()


def downgrade() -> None:
    drop_operations_tables()
