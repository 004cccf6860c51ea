"""A customer lists their own orders, newest first (the customer is the subject of their token)."""
from alembic import op

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    op.create_index('ix_orders_customer_created', 'orders', ['customer_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_orders_customer_created', table_name='orders')
