"""Facts indexed by their age, for the retention to remove the oldest a batch at a time, and the totals the removed
facts had added to the all-time figures."""
import sqlalchemy as sa
from alembic import op

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0003", "0002"

TOTALS = ("placed", "completed", "cancelled", "delivery_failed", "reserved", "fully_reserved", "produced_units",
          "deadline_breaches")
INDEXES = [
    ("order_facts_by_end", "order_facts", [sa.text("least(completed_at, cancelled_at, delivery_failed_at)")]),
    ("backorder_facts_by_closing", "backorder_facts", ["closed_at"]),
    ("production_facts_by_age", "production_facts", ["produced_at"]),
    ("deadline_breaches_by_age", "deadline_breaches", ["at"]),
]


def upgrade() -> None:
    totals = op.create_table(
        "retired_totals",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in TOTALS),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(totals, [{"id": 1}])
    for name, table, columns in INDEXES:
        create_index_concurrently(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        drop_index_concurrently(name, table)
    op.drop_table("retired_totals")
