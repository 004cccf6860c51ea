"""The trace that placed an order (shared/runtime/tracing.py), so its page and the API lead to it in Zipkin.

Nullable, no default: orders placed before have none, and adding it rewrites nothing."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0013", "0012"


def upgrade() -> None:
    add_columns("orders", col.label("trace_id", 32, nullable=True))


def downgrade() -> None:
    drop_columns("orders", "trace_id")
