"""Expired outbox rows indexed: readiness and `/metrics` count them, and the table keeps every published row."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index("outbox_expired", "outbox", ["seq"], postgresql_where=sa.text("expired_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("outbox_expired", table_name="outbox")
