"""Indexes for the courier's round (deliveries still under way, by when they are due) and for finding a shipment's
delivery: both read the whole table before, which grows with every delivery."""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.create_index("deliveries_under_way", "deliveries", ["due_at"],
                    postgresql_where=sa.text("status = 'DISPATCHED'"))
    op.create_index("deliveries_by_shipment", "deliveries", ["shipment_id"])


def downgrade() -> None:
    op.drop_index("deliveries_by_shipment", table_name="deliveries")
    op.drop_index("deliveries_under_way", table_name="deliveries")
