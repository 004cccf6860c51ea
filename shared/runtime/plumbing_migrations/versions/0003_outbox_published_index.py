"""Published outbox rows indexed by when they went out: the retention deletes the oldest, a batch at a time."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    create_index_concurrently("outbox_published", "outbox", ["published_at"],
                              postgresql_where=sa.text("published_at IS NOT NULL"))


def downgrade() -> None:
    drop_index_concurrently("outbox_published", "outbox")
