"""Batch operations on orders (cancel or abort many as one) with their items (shared.runtime.operations)."""
from alembic import op

from shared.runtime import operations

revision, down_revision = "0014", "0013"  # 0013: the order's trace id


def upgrade() -> None:
    operations.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("operation_items")
    op.drop_table("operations")
