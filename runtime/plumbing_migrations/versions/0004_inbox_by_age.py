"""Inbox rows indexed by when they came: the retention deletes the oldest, a batch at a time."""
from alembic import op

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.create_index("inbox_by_age", "inbox", ["received_at"])


def downgrade() -> None:
    op.drop_index("inbox_by_age", table_name="inbox")
