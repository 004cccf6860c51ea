"""Backorders and partial shipments."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.create_table(
        "backorders",
        col.identifier(), col.identifier("order_id"), col.sku(), col.count("quantity"), col.count("allocated", default=0),
        col.label("status", 16), col.flag("expedited", False), col.moment("created_at", now=True),
        sa.ForeignKeyConstraint(["sku"], ["stock.sku"]), sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "sku", name="backorders_one_per_order_line"),
    )
    op.create_index(op.f("ix_backorders_order_id"), "backorders", ["order_id"], unique=False)
    op.add_column("reservations", col.count("picked", default=0))
    op.add_column("shipments", col.count("shipment_no", default=1))
    op.alter_column("shipments", "shipment_no", server_default=None)
    # Before this revision a reservation was picked whole; its picked count is its reserved count.
    op.execute("UPDATE reservations SET picked = reserved, status = 'reserved' WHERE status = 'picked'")
    op.drop_constraint(op.f("shipments_order_id_key"), "shipments", type_="unique")
    op.create_unique_constraint("shipments_one_per_order_and_number", "shipments", ["order_id", "shipment_no"])


def downgrade() -> None:
    op.drop_constraint("shipments_one_per_order_and_number", "shipments", type_="unique")
    op.create_unique_constraint(op.f("shipments_order_id_key"), "shipments", ["order_id"],
                                postgresql_nulls_not_distinct=False)
    op.drop_column("shipments", "shipment_no")
    op.drop_column("reservations", "picked")
    op.drop_table("backorders")
