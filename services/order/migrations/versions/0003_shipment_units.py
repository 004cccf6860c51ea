"""Units per shipment in the read model: an order is delivered only when every unit is."""
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.add_column('order_shipments', col.count("units", nullable=True))


def downgrade() -> None:
    op.drop_column('order_shipments', 'units')
