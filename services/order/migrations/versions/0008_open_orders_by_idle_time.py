"""Open orders by how long they have been idle: the reconciler pages through them however many orders are final.

Built CONCURRENTLY, so a rolling upgrade never blocks placing orders while it builds."""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0008", "0007"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_open_idle", "orders", ["updated_at", "id"], postgresql_concurrently=True,
                        postgresql_where=sa.text("status NOT IN ('CANCELLED', 'COMPLETED', 'DELIVERY_FAILED')"))


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_orders_open_idle", table_name="orders", postgresql_concurrently=True)
