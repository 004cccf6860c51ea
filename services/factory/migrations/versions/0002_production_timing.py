"""Production timing."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column('production_orders', sa.Column('due_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.add_column('production_orders', sa.Column('expedited', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('production_orders', sa.Column('produced_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('production_orders', 'produced_at')
    op.drop_column('production_orders', 'expedited')
    op.drop_column('production_orders', 'due_at')
