"""The trace context of the work that wrote an outbox row, so the relay's publish continues its trace.

A nullable column without a default: adding it rewrites nothing and locks the outbox only for a moment."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    add_columns("outbox", col.trace_context())


def downgrade() -> None:
    drop_columns("outbox", "traceparent")
