"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table(
        "production_orders",
        col.identifier("request_id"), col.identifier("order_id"), col.sku(), col.count("quantity"),
        col.label("status", 16), col.moment("created_at", now=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table("production_orders")
