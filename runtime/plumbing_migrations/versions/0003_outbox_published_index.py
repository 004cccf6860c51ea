"""Published outbox rows indexed by when they went out: the retention deletes the oldest, a batch at a time."""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.create_index("outbox_published", "outbox", ["published_at"],
                    postgresql_where=sa.text("published_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("outbox_published", table_name="outbox")
