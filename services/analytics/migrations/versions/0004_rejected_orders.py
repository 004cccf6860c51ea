"""Orders rejected before anything was reserved (fulfilment.order.rejected.v1): when, the all-time count the retention
keeps, and the rejection as an end in the index of ended orders (rebuilt CONCURRENTLY, so consuming never stops)."""
import sqlalchemy as sa

from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, create_index_concurrently, drop_columns, drop_index_concurrently

revision, down_revision = "0004", "0003"


def _index_ends(ends: str) -> None:
    drop_index_concurrently("order_facts_by_end", "order_facts")
    create_index_concurrently("order_facts_by_end", "order_facts", [sa.text(f"least({ends})")])


def upgrade() -> None:
    add_columns("order_facts", col.moment("rejected_at", nullable=True))
    add_columns("retired_totals", sa.Column("rejected", sa.BigInteger(), server_default="0", nullable=False))
    _index_ends("completed_at, cancelled_at, delivery_failed_at, rejected_at")


def downgrade() -> None:
    _index_ends("completed_at, cancelled_at, delivery_failed_at")
    drop_columns("retired_totals", "rejected")
    drop_columns("order_facts", "rejected_at")
