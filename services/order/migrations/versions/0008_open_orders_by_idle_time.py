"""Open orders by how long they have been idle: the reconciler pages through them however many orders are final.

Built CONCURRENTLY, so a rolling upgrade never blocks placing orders while it builds."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0008", "0007"


def upgrade() -> None:
    create_index_concurrently("ix_orders_open_idle", "orders", ["updated_at", "id"],
                              postgresql_where=sa.text("status NOT IN ('CANCELLED', 'COMPLETED', 'DELIVERY_FAILED')"))


def downgrade() -> None:
    drop_index_concurrently("ix_orders_open_idle", "orders")
