"""Orders reviewed before any stock is reserved: the reason an order has its status (REJECTED), and REJECTED a final
status in the two partial indexes that name the final ones (open orders by idle time, timeline steps by age).

Each index is dropped and built again CONCURRENTLY, so a rolling upgrade never blocks placing orders meanwhile; until
it is back the reconciler and the retention read without it."""
import sqlalchemy as sa

from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, create_index_concurrently, drop_columns, drop_index_concurrently

revision, down_revision = "0012", "0011"

FINAL_BEFORE = "'CANCELLED', 'COMPLETED', 'DELIVERY_FAILED'"
FINAL_NOW = "'CANCELLED', 'COMPLETED', 'DELIVERY_FAILED', 'REJECTED'"


def _rebuild_indexes(open_orders: str, timeline_steps: str) -> None:
    drop_index_concurrently("ix_orders_open_idle", "orders")
    create_index_concurrently("ix_orders_open_idle", "orders", ["updated_at", "id"],
                              postgresql_where=sa.text(f"status NOT IN ({open_orders})"))
    drop_index_concurrently("order_timeline_steps", "order_timeline")
    create_index_concurrently("order_timeline_steps", "order_timeline", ["at"],
                              postgresql_where=sa.text(f"status NOT IN ({timeline_steps})"))


def upgrade() -> None:
    add_columns("orders", col.prose("status_reason", nullable=True))
    _rebuild_indexes(FINAL_NOW, "'CANCELLED', 'COMPLETED', 'DELIVERY_FAILED', 'PLACED', 'REJECTED'")


def downgrade() -> None:
    _rebuild_indexes(FINAL_BEFORE, "'CANCELLED', 'COMPLETED', 'DELIVERY_FAILED', 'PLACED'")
    drop_columns("orders", "status_reason")
