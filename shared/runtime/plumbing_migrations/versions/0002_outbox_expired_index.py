"""Expired outbox rows indexed: readiness and `/metrics` count them, and the table keeps every published row."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_index_concurrently("outbox_expired", "outbox", ["seq"], postgresql_where=sa.text("expired_at IS NOT NULL"))


def downgrade() -> None:
    drop_index_concurrently("outbox_expired", "outbox")
