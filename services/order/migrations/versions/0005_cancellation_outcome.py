"""An order's cancellation request and its outcome (pending, cancelled or refused, with the reason)."""
from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    add_columns("orders", col.moment("cancel_requested_at", nullable=True), col.label("cancel_outcome", 16, nullable=True),
                col.prose("cancel_reason", nullable=True), col.moment("cancel_decided_at", nullable=True))


def downgrade() -> None:
    drop_columns("orders", "cancel_decided_at", "cancel_reason", "cancel_outcome", "cancel_requested_at")
