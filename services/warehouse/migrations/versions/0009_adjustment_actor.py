"""A stock count or adjustment keeps who made it (the operator's token subject)."""
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0009", "0008"


def upgrade() -> None:
    op.add_column("stock_adjustments", col.label("actor", 255, nullable=True))


def downgrade() -> None:
    op.drop_column("stock_adjustments", "actor")
