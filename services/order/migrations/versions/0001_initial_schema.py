"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox, drop_tables

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table(
        "orders",
        col.identifier(), col.label("customer_id", 100), col.document("shipping_address"), col.label("status", 32),
        col.label("idempotency_key", 200, nullable=True), col.label("request_fingerprint", 64),
        col.engine_key("process_instance_key", nullable=True),
        col.moment("created_at", now=True), col.moment("updated_at", now=True),
        sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("idempotency_key"),
    )
    op.create_table(
        "order_lines",
        col.identifier("order_id"), col.sku(), col.count("quantity"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]), sa.PrimaryKeyConstraint("order_id", "sku"),
    )
    op.create_table(
        "order_timeline",
        col.serial(), col.identifier("order_id"), col.moment("at"), col.label("status", 32), col.label("what", 200),
        col.label("event_type", 200, nullable=True), col.label("event_id", 200, nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]), sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_order_timeline_order_id"), "order_timeline", ["order_id"], unique=False)
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    drop_tables("order_timeline", "order_lines", "orders")
