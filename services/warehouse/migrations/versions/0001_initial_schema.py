"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox, drop_tables

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table(
        "shipments",
        col.identifier(), col.identifier("order_id"), col.label("status", 16), col.moment("created_at", now=True),
        sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("order_id"),
    )
    op.create_table(
        "stock",
        col.sku(), col.label("name", 200), col.count("on_hand"), col.count("reserved", default=0),
        col.moment("updated_at", now=True),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "reservations",
        col.identifier("order_id"), col.sku(), col.count("requested"), col.count("reserved"),
        col.label("status", 16), col.moment("created_at", now=True),
        sa.ForeignKeyConstraint(["sku"], ["stock.sku"]), sa.PrimaryKeyConstraint("order_id", "sku"),
    )
    op.create_table(
        "shipment_lines",
        col.identifier("shipment_id"), col.sku(), col.count("quantity"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"]), sa.PrimaryKeyConstraint("shipment_id", "sku"),
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    drop_tables("shipment_lines", "reservations", "stock", "shipments")
