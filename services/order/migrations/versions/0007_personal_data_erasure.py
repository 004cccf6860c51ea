"""A customer's personal data can be erased: the shipping address may be gone, and when it went is kept."""
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.runtime import migration_columns as col

revision, down_revision = "0007", "0006"


def upgrade() -> None:
    op.alter_column("orders", "shipping_address", existing_type=postgresql.JSONB(), nullable=True)
    op.add_column("orders", col.moment("personal_data_erased_at", nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "personal_data_erased_at")
    op.alter_column("orders", "shipping_address", existing_type=postgresql.JSONB(), nullable=False)
