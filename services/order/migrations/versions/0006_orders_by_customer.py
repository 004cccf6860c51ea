"""A customer lists their own orders, newest first (the customer is the subject of their token)."""
from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    create_index_concurrently('ix_orders_customer_created', 'orders', ['customer_id', 'created_at'])


def downgrade() -> None:
    drop_index_concurrently('ix_orders_customer_created', 'orders')
