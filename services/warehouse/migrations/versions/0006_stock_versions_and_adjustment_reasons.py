"""Stock versions (the ETag of a stock item); signed, reasoned stock adjustments with an Idempotency-Key."""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column("stock", sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("stock_adjustments", sa.Column("quantity", sa.Integer(), nullable=True))
    op.add_column("stock_adjustments", sa.Column("reason", sa.String(length=200), nullable=True))
    op.add_column("stock_adjustments", sa.Column("idempotency_key", sa.String(length=200), nullable=True))
    op.create_unique_constraint(op.f("stock_adjustments_idempotency_key_key"), "stock_adjustments",
                                ["idempotency_key"])
    # Until now every adjustment was an operator's absolute count, and all it added stayed free stock.
    op.execute("UPDATE stock_adjustments SET quantity = on_hand_after - on_hand_before, reason = 'count'")
    op.alter_column("stock_adjustments", "quantity", nullable=False)
    op.alter_column("stock_adjustments", "reason", nullable=False)


def downgrade() -> None:
    op.drop_constraint(op.f("stock_adjustments_idempotency_key_key"), "stock_adjustments", type_="unique")
    op.drop_column("stock_adjustments", "idempotency_key")
    op.drop_column("stock_adjustments", "reason")
    op.drop_column("stock_adjustments", "quantity")
    op.drop_column("stock", "version")
