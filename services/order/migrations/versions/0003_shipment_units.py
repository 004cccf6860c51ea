"""Units per shipment in the read model: an order is delivered only when every unit is."""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column('order_shipments', sa.Column('units', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('order_shipments', 'units')
