"""Production orders keep the trace their request came in, which their production continues."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    add_columns("production_orders", col.trace_context())


def downgrade() -> None:
    drop_columns("production_orders", "traceparent")
