"""${message}."""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}
revision = ${'"%s"' % up_revision}
down_revision = ${'"%s"' % down_revision if down_revision else None}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
