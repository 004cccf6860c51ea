"""Backorders and shipments in the read model."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    op.create_table(
        "order_shipments",
        col.identifier("order_id"), col.identifier("shipment_id"), col.label("stage", 32),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]), sa.PrimaryKeyConstraint("order_id", "shipment_id"),
    )
    add_columns("orders", col.flag("accepts_partial", True), col.flag("reserved", False),
                col.flag("backorder_open", False))


def downgrade() -> None:
    drop_columns("orders", "backorder_open", "reserved", "accepts_partial")
    op.drop_table("order_shipments")
