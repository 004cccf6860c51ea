"""The catalog as the Warehouse announces it (fulfilment.warehouse.sku-listed.v1): an order may name only these SKUs."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0011", "0010"


def upgrade() -> None:
    op.create_table("catalog_skus", col.sku(), col.prose("name"), col.moment("listed_at", now=True),
                    sa.PrimaryKeyConstraint("sku"))


def downgrade() -> None:
    op.drop_table("catalog_skus")
