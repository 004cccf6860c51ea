"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        col.identifier(), col.identifier("order_id"), col.identifier("shipment_id"), col.document("items"),
        col.label("courier", 100), col.label("status", 16),
        col.moment("dispatched_at", now=True), col.moment("due_at"), col.moment("delivered_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "shipment_id", name="deliveries_one_per_shipment"),
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table("deliveries")
