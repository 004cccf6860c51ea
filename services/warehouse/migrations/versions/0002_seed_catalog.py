"""Seed the catalog with its starting stock."""
import sqlalchemy as sa
from alembic import op

from services.warehouse.catalog import CATALOG

revision, down_revision = "0002", "0001"

stock = sa.table("stock", sa.column("sku", sa.String), sa.column("name", sa.String),
                 sa.column("on_hand", sa.Integer), sa.column("reserved", sa.Integer))


def upgrade() -> None:
    op.bulk_insert(stock, [{**item, "reserved": 0} for item in CATALOG])


def downgrade() -> None:
    op.execute(stock.delete().where(stock.c.sku.in_([item["sku"] for item in CATALOG])))
