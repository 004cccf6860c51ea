"""Production timing."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    add_columns("production_orders", col.moment("due_at", now=True), col.flag("expedited", False),
                col.moment("produced_at", nullable=True))


def downgrade() -> None:
    drop_columns("production_orders", "produced_at", "expedited", "due_at")
