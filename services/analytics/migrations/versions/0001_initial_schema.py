"""Initial schema."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col
from shared.runtime.migrations import create_outbox_and_inbox, drop_outbox_and_inbox, drop_tables

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table(
        "backorder_facts",
        col.identifier("request_id"), col.identifier("order_id"), col.sku(), col.count("quantity"),
        col.moment("requested_at"), col.moment("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index(op.f("ix_backorder_facts_order_id"), "backorder_facts", ["order_id"], unique=False)
    op.create_table(
        "deadline_breaches",
        col.label("event_id", 200), col.identifier("order_id"), col.moment("at"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "order_facts",
        col.identifier("order_id"), col.moment("placed_at", nullable=True),
        sa.Column("first_pass_full", sa.Boolean(), nullable=True),
        *(col.moment(name, nullable=True) for name in ("delivered_at", "completed_at", "cancelled_at")),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "production_facts",
        col.identifier("request_id"), col.sku(), col.count("quantity"), col.moment("produced_at"),
        sa.PrimaryKeyConstraint("request_id"),
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    drop_tables("production_facts", "order_facts", "deadline_breaches", "backorder_facts")
