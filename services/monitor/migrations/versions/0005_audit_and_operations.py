"""Who did what (the audit of operator actions) and batch operations with their items (shared.runtime.operations)."""
import sqlalchemy as sa
from alembic import op

from shared.runtime.migrations import create_operations_tables, drop_operations_tables

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
    create_operations_tables()


def downgrade() -> None:
    drop_operations_tables()
    op.drop_table("audit")
