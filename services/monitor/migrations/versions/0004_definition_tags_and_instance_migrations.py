"""Definitions keep their version tag and the deployment they came in; instances keep the versions they were migrated
between, so an operator sees where an order ran and the migration finds the called process deployed with a target."""
import sqlalchemy as sa
from alembic import op

from shared.runtime import migration_columns as col

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.add_column("definitions", col.label("version_tag", 255, nullable=True))
    op.add_column("definitions", col.engine_key("deployment_key", nullable=True))
    # Definitions projected before: the tag is in their deployed XML; their deployment is not known.
    op.execute(sa.text("UPDATE definitions SET version_tag = "
                       "substring(bpmn_xml from '<zeebe:versionTag value=\"([^\"]*)\"') WHERE version_tag IS NULL"))
    op.create_index("definitions_by_deployment", "definitions", ["deployment_key"], unique=False)
    op.create_table(
        "instance_migrations",
        col.engine_key("instance_key"), col.engine_key("from_definition_key"), col.count("from_version"),
        col.engine_key("to_definition_key"), col.count("to_version"), col.moment("migrated_at"),
        sa.PrimaryKeyConstraint("instance_key", "to_definition_key", "migrated_at"),
    )


def downgrade() -> None:
    op.drop_table("instance_migrations")
    op.drop_index("definitions_by_deployment", "definitions")
    op.drop_column("definitions", "deployment_key")
    op.drop_column("definitions", "version_tag")
