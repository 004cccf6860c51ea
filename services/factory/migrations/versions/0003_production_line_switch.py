"""Production line switch."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.create_table(
        "production_line",
        sa.Column("id", sa.Integer(), nullable=False), col.flag("running", True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("production_line")
