"""A Zeebe message's rows for one correlation key: what the reconciler reads of an order, without a scan of the outbox.

Built CONCURRENTLY: the outbox takes a row with every state change, and a plain build would block them all."""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("outbox_messages_by_key", "outbox", ["key", "topic", "seq"], postgresql_concurrently=True,
                        postgresql_where=sa.text("destination = 'zeebe'"))


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("outbox_messages_by_key", table_name="outbox", postgresql_concurrently=True)
