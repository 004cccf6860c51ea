"""Stock adjustments."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.create_table(
        "stock_adjustments",
        col.serial(), col.sku(), col.count("on_hand_before"), col.count("on_hand_after"), col.moment("at", now=True),
        sa.ForeignKeyConstraint(["sku"], ["stock.sku"]), sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("stock_adjustments")
