"""Deliveries keep the trace their command came in, which the courier's delivery continues."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    add_columns("deliveries", col.trace_context())


def downgrade() -> None:
    drop_columns("deliveries", "traceparent")
