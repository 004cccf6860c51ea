"""Outbox rows ordered by a sequence, and a mark for Zeebe messages that outlived their time to live."""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

UNPUBLISHED = sa.text("published_at IS NULL AND expired_at IS NULL")


def upgrade() -> None:
    op.add_column("outbox", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
    op.add_column("outbox", sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("outbox_unpublished", table_name="outbox")
    op.create_index("outbox_unpublished", "outbox", ["destination", "seq"], postgresql_where=UNPUBLISHED)
    op.create_index("outbox_unpublished_by_key", "outbox", ["key", "seq"], postgresql_where=UNPUBLISHED)


def downgrade() -> None:
    op.drop_index("outbox_unpublished_by_key", table_name="outbox")
    op.drop_index("outbox_unpublished", table_name="outbox")
    op.create_index("outbox_unpublished", "outbox", ["created_at"],
                    postgresql_where=sa.text("published_at IS NULL"))
    op.drop_column("outbox", "expired_at")
    op.drop_column("outbox", "seq")
