"""Refusals and redispatches: what a repeated delivery job finds instead of acting twice."""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "refusals",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("shipment_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "shipment_id", name="refusals_one_per_shipment"),
    )
    op.create_table(
        "redispatches",
        sa.Column("element_instance_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("courier", sa.String(length=100), nullable=False),
        sa.Column("redispatched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("element_instance_key"),
    )


def downgrade() -> None:
    op.drop_table("redispatches")
    op.drop_table("refusals")
