"""Element instances remember the scope they run in, so a stuck one can be started again there."""
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    op.add_column("element_instances", col.engine_key("flow_scope_key", nullable=True))


def downgrade() -> None:
    op.drop_column("element_instances", "flow_scope_key")
