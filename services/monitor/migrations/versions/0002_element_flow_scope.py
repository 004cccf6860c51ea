"""Element instances remember the scope they run in, so a stuck one can be started again there."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("element_instances", sa.Column("flow_scope_key", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("element_instances", "flow_scope_key")
