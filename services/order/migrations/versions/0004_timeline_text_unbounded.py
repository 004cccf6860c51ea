"""Timeline text without a length limit: a long event must not stop the consumer."""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.alter_column('order_timeline', 'what', type_=sa.Text(), existing_type=sa.String(length=200),
                    existing_nullable=False)


def downgrade() -> None:
    op.alter_column('order_timeline', 'what', type_=sa.String(length=200), existing_type=sa.Text(),
                    existing_nullable=False, postgresql_using="left(what, 200)")
