"""A Zeebe message's rows for one correlation key: what the reconciler reads of an order, without a scan of the outbox.

Built CONCURRENTLY: the outbox takes a row with every state change, and a plain build would block them all."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    create_index_concurrently("outbox_messages_by_key", "outbox", ["key", "topic", "seq"],
                              postgresql_where=sa.text("destination = 'zeebe'"))


def downgrade() -> None:
    drop_index_concurrently("outbox_messages_by_key", "outbox")
