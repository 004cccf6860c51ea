"""Stock versions (the ETag of a stock item); signed, reasoned stock adjustments with an Idempotency-Key."""
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import add_columns, drop_columns

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    op.add_column("stock", col.count("version", default=0))
    add_columns("stock_adjustments", col.count("quantity", nullable=True), col.label("reason", 200, nullable=True),
                col.label("idempotency_key", 200, nullable=True))
    op.create_unique_constraint(op.f("stock_adjustments_idempotency_key_key"), "stock_adjustments",
                                ["idempotency_key"])
    # Until now every adjustment was an operator's absolute count, and all it added stayed free stock.
    op.execute("UPDATE stock_adjustments SET quantity = on_hand_after - on_hand_before, reason = 'count'")
    op.alter_column("stock_adjustments", "quantity", nullable=False)
    op.alter_column("stock_adjustments", "reason", nullable=False)


def downgrade() -> None:
    op.drop_constraint(op.f("stock_adjustments_idempotency_key_key"), "stock_adjustments", type_="unique")
    drop_columns("stock_adjustments", "idempotency_key", "reason", "quantity")
    op.drop_column("stock", "version")
