"""Who did what (the audit of operator actions) and batch operations with their items (shared.runtime.operations)."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import operations

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("order_id", sa.String(100)),
        sa.Column("result", sa.Text, nullable=False),
    )
    op.create_index("audit_by_order", "audit", ["order_id", "at"])
    op.create_index("audit_by_actor", "audit", ["actor", "at"])
    op.create_index("audit_by_age", "audit", ["at"])  # what the retention deletes, oldest first
    operations.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("operation_items")
    op.drop_table("operations")
    op.drop_table("audit")
