"""The trace a production order's request came in, which its production continues (shared/runtime/tracing.py).

Nullable, no default: production orders taken before have none, and adding it rewrites nothing."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    # A W3C traceparent: 55 characters.
    add_columns("production_orders", col.label("traceparent", 55, nullable=True))


def downgrade() -> None:
    drop_columns("production_orders", "traceparent")
