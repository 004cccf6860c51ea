"""Inbox rows indexed by when they came: the retention deletes the oldest, a batch at a time."""
from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    create_index_concurrently("inbox_by_age", "inbox", ["received_at"])


def downgrade() -> None:
    drop_index_concurrently("inbox_by_age", "inbox")
