"""Alembic, driven from code: each service keeps its own versions folder; this runs them."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool
from sqlalchemy.dialects import postgresql


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


# The plumbing tables (runtime.tables) change in one place for every service: their own migrations,
# with their own version table, run after the service's.
PLUMBING_MIGRATIONS = Path(__file__).with_name("plumbing_migrations")
PLUMBING_VERSION_TABLE = "alembic_version_plumbing"
VERSION_TABLES = {"alembic_version", PLUMBING_VERSION_TABLE}


def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    command.upgrade(alembic_config(migrations_dir, database_url), "head")
    command.upgrade(alembic_config(PLUMBING_MIGRATIONS, database_url), "head")


def run_env(target_metadata: list[MetaData], version_table: str = "alembic_version",
            only_these_tables: bool = False) -> None:
    """Body of every env.py: online migrations against the configured URL.

    `only_these_tables`: compare just the metadata's tables with the database (the plumbing shares
    each service's database); the version tables are never compared.
    """
    config = context.config
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    known = {name for metadata in target_metadata for name in metadata.tables}

    def include_name(name, type_, _parent) -> bool:
        if type_ != "table":
            return True
        return name not in VERSION_TABLES and (name in known or not only_these_tables)

    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table=version_table, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()


# Frozen as of revision 0001: written out, not taken from runtime.tables, so later model edits need their own migration.
def create_outbox_and_inbox() -> None:
    """The plumbing tables every service's first migration creates: the inbox, the outbox and its index."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("outbox_unpublished", "outbox", ["created_at"], unique=False,
                    postgresql_where=sa.text("published_at IS NULL"))


def add_columns(table: str, *columns: sa.Column) -> None:
    for column in columns:
        op.add_column(table, column)


def drop_columns(table: str, *columns: str) -> None:
    """Drop these columns of `table` in the order given."""
    for column in columns:
        op.drop_column(table, column)


def drop_tables(*tables: str) -> None:
    """Drop these tables in the order given (their indexes and constraints go with them)."""
    for table in tables:
        op.drop_table(table)


def drop_outbox_and_inbox() -> None:
    op.drop_index("outbox_unpublished", table_name="outbox", postgresql_where=sa.text("published_at IS NULL"))
    op.drop_table("outbox")
    op.drop_table("inbox")


# Frozen as written by the closed-orders revisions: runtime.closing.ClosedKeys, as of then.
def create_closed_keys_table(table: str, key: str) -> None:
    """A `runtime.closing.ClosedKeys` table, e.g. `create_closed_keys_table("closed_orders", "order_id")`."""
    op.create_table(
        table,
        sa.Column(key, sa.String(length=36), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(key),
    )


def drop_closed_keys_table(table: str) -> None:
    op.drop_table(table)


def create_index_concurrently(name: str, table: str, columns: list, **options) -> None:
    """Build an index without blocking writes to `table` (a table that grows with orders takes a while).

    Outside the migration's transaction, which CONCURRENTLY requires; a build that was interrupted leaves an
    invalid index behind, so whatever has the name is dropped first and built again.
    """
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(name, table, columns, postgresql_concurrently=True, **options)


def drop_index_concurrently(name: str, table: str) -> None:
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
