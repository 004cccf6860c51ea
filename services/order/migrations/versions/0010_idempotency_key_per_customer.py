"""An Idempotency-Key is unique per customer, not across customers: another customer's key is no conflict.

The new index is built CONCURRENTLY, so a rolling upgrade never blocks placing orders while it builds; the old
constraint goes only once it stands, so no moment is without one."""
from alembic import op

from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0010", "0009"


def upgrade() -> None:
    create_index_concurrently("uq_orders_customer_idempotency_key", "orders", ["customer_id", "idempotency_key"],
                              unique=True)
    op.drop_constraint("orders_idempotency_key_key", "orders", type_="unique")


def downgrade() -> None:
    # Fails while two customers hold one key: which of their orders would keep it is not the migration's choice.
    op.create_unique_constraint("orders_idempotency_key_key", "orders", ["idempotency_key"])
    drop_index_concurrently("uq_orders_customer_idempotency_key", "orders")
