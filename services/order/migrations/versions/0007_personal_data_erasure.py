"""A customer's personal data can be erased: the shipping address may be gone, and when it went is kept."""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.alter_column("orders", "shipping_address", existing_type=postgresql.JSONB(), nullable=True)
    op.add_column("orders", sa.Column("personal_data_erased_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("orders", "personal_data_erased_at")
    op.alter_column("orders", "shipping_address", existing_type=postgresql.JSONB(), nullable=False)
