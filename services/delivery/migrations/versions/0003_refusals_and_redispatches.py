"""Refusals and redispatches: what a repeated delivery job finds instead of acting twice."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import drop_tables

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.create_table(
        "refusals",
        col.identifier("order_id"), col.identifier("shipment_id"), col.prose("reason"),
        col.moment("refused_at", now=True),
        sa.PrimaryKeyConstraint("order_id", "shipment_id", name="refusals_one_per_shipment"),
    )
    op.create_table(
        "redispatches",
        col.engine_key("element_instance_key", primary=True), col.identifier("delivery_id"),
        col.label("courier", 100), col.moment("redispatched_at", now=True),
        sa.PrimaryKeyConstraint("element_instance_key"),
    )


def downgrade() -> None:
    drop_tables("redispatches", "refusals")
