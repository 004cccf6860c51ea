"""An order's cancellation request and its outcome (pending, cancelled or refused, with the reason)."""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column('orders', sa.Column('cancel_requested_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('orders', sa.Column('cancel_outcome', sa.String(length=16), nullable=True))
    op.add_column('orders', sa.Column('cancel_reason', sa.Text(), nullable=True))
    op.add_column('orders', sa.Column('cancel_decided_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('orders', 'cancel_decided_at')
    op.drop_column('orders', 'cancel_reason')
    op.drop_column('orders', 'cancel_outcome')
    op.drop_column('orders', 'cancel_requested_at')
