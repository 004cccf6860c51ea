"""The trace context of the work that wrote an outbox row, so the relay's publish continues its trace.

A nullable column without a default: adding it rewrites nothing and locks the outbox only for a moment."""
import sqlalchemy as sa

from shared.runtime.migrations import add_columns, drop_columns

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # A W3C traceparent is 55 characters: version, trace id, span id, flags.
    add_columns("outbox", sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    drop_columns("outbox", "traceparent")
