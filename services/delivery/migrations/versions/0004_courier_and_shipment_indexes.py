"""Indexes for the courier's round (deliveries still under way, by when they are due) and for finding a shipment's
delivery: both read the whole table before, which grows with every delivery."""
import sqlalchemy as sa

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    create_index_concurrently("deliveries_under_way", "deliveries", ["due_at"],
                              postgresql_where=sa.text("status = 'DISPATCHED'"))
    create_index_concurrently("deliveries_by_shipment", "deliveries", ["shipment_id"])


def downgrade() -> None:
    drop_index_concurrently("deliveries_by_shipment", "deliveries")
    drop_index_concurrently("deliveries_under_way", "deliveries")
