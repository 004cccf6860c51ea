"""The trace a delivery's command came in, which the courier's delivery continues (shared/runtime/tracing.py).

Nullable, no default: deliveries started before have none, and adding it rewrites nothing."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    # A W3C traceparent: 55 characters.
    add_columns("deliveries", col.label("traceparent", 55, nullable=True))


def downgrade() -> None:
    drop_columns("deliveries", "traceparent")
