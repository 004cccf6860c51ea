"""Alembic, driven from code: each service keeps its own versions folder; this runs them."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool
from sqlalchemy.dialects import postgresql

from shared.runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

# The services' own default, for whatever migrates without their settings (tests, benches, the alembic command).
LOCK_TIMEOUT_SECONDS = ServiceSettings.model_fields["migration_lock_timeout_seconds"].default
# Every migration of a database holds this advisory lock (its number is arbitrary, the same in every process): replicas
# that start together migrate one after the other, and the later finds the schema at head.
MIGRATION_LOCK = 0x66756C66696C  # "fulfil"
# How often a replica asks for the lock while another migrates. It asks rather than waits in pg_advisory_lock: a
# waiting statement holds a snapshot, which the other's CONCURRENTLY index build would wait for in turn.
LOCK_POLL_SECONDS = 0.5
# PostgreSQL's SQLSTATE for a statement cancelled because its lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"


class MigrationLockTimeout(RuntimeError):
    """A migration gave up waiting for a lock another transaction holds on one of its tables."""


def alembic_config(migrations_dir: Path, database_url: str,
                   lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["lock_timeout_seconds"] = lock_timeout_seconds
    return config


# The plumbing tables (shared.runtime.tables) change in one place for every service: their own migrations,
# with their own version table, run after the service's.
PLUMBING_MIGRATIONS = Path(__file__).with_name("plumbing_migrations")
PLUMBING_VERSION_TABLE = "alembic_version_plumbing"
VERSION_TABLES = {"alembic_version", PLUMBING_VERSION_TABLE}


def upgrade_to_head(migrations_dir: Path, database_url: str,
                    lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS) -> None:
    for migrations in (migrations_dir, PLUMBING_MIGRATIONS):
        command.upgrade(alembic_config(migrations, database_url, lock_timeout_seconds), "head")


def run_env(target_metadata: list[MetaData], version_table: str = "alembic_version",
            only_these_tables: bool = False) -> None:
    """Body of every env.py: online migrations against the configured URL, one replica at a time, each statement
    waiting at most the lock timeout for a table's lock.

    `only_these_tables`: compare just the metadata's tables with the database (the plumbing shares
    each service's database); the version tables are never compared.
    """
    config = context.config
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    known = {name for metadata in target_metadata for name in metadata.tables}
    lock_timeout = config.attributes.get("lock_timeout_seconds", LOCK_TIMEOUT_SECONDS)

    def include_name(name, type_, _parent) -> bool:
        if type_ != "table":
            return True
        return name not in VERSION_TABLES and (name in known or not only_these_tables)

    # The advisory lock and the lock timeout are the session's: they outlast the transactions below, and closing the
    # connection (never pooled) lets the lock go, also when a migration fails.
    with engine.connect() as connection:
        _wait_for_other_replicas(connection)
        connection.execute(sa.select(sa.func.set_config("lock_timeout", f"{round(lock_timeout * 1000)}ms", False)))
        connection.commit()  # Alembic begins its own transactions
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table=version_table, include_name=include_name)
        try:
            with context.begin_transaction():
                context.run_migrations()
        except sa.exc.OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise MigrationLockTimeout(
                f"migrating {connection.engine.url.database}: `{error.statement}` waited {lock_timeout:g} s for "
                "another transaction to let go of a lock and gave up, so that no query on the table queues behind it. "
                "The next start tries again; if it keeps failing, find that transaction (pg_stat_activity, pg_locks; "
                "a CONCURRENTLY build waits for every older one in the database) and end it, or allow a longer wait "
                "with FULFIL_<SERVICE>_MIGRATION_LOCK_TIMEOUT_SECONDS.") from error


def _wait_for_other_replicas(connection: sa.Connection) -> None:
    """Take the migration lock, waiting while another replica migrates this database."""
    told = False
    while not connection.scalar(sa.select(sa.func.pg_try_advisory_lock(MIGRATION_LOCK))):
        connection.commit()  # no snapshot held between tries
        if not told:
            log.info("another replica is migrating %s; waiting for it", connection.engine.url.database)
            told = True
        time.sleep(LOCK_POLL_SECONDS)


def create_index_concurrently(name: str, table: str, columns: list[str], **options) -> None:
    """An index on a table in use, built without blocking its writers (a plain build holds them off until it ends).

    CONCURRENTLY runs outside the migration's transaction. A build that stopped part way (a lock timeout, a crash)
    leaves an invalid index of this name: it is dropped, so the next start builds it afresh; a valid one is kept.
    """
    with op.get_context().autocommit_block():
        invalid = op.get_bind().scalar(sa.text("SELECT NOT indisvalid FROM pg_index "
                                               "WHERE indexrelid = to_regclass(quote_ident(:name))"), {"name": name})
        if invalid:
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
        op.create_index(name, table, columns, postgresql_concurrently=True, if_not_exists=True, **options)


def drop_index_concurrently(name: str, table: str) -> None:
    """Drop an index of a table in use without blocking its readers and writers meanwhile."""
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


# Frozen as of revision 0001: written out, not taken from tables.py, so later model edits need their own migration.
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


# Frozen as written by the closed-orders revisions: shared.runtime.closing.ClosedKeys, as of then.
def create_closed_keys_table(table: str, key: str) -> None:
    """A `shared.runtime.closing.ClosedKeys` table, e.g. `create_closed_keys_table("closed_orders", "order_id")`."""
    op.create_table(
        table,
        sa.Column(key, sa.String(length=36), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(key),
    )


def drop_closed_keys_table(table: str) -> None:
    op.drop_table(table)


# Frozen as written by the revisions that added batch operations: shared.runtime.operations.tables, as of then.
def create_operations_tables() -> None:
    """A service's batch operations and their items (`shared.runtime.operations`)."""
    op.create_table(
        "operations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("filter", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("operations_by_age", "operations", ["created_at"])
    op.create_table(
        "operation_items",
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("operation_id", "seq"),
    )
    op.create_index("operation_items_pending", "operation_items", ["operation_id", "seq"],
                    postgresql_where=sa.text("state = 'PENDING'"))


def drop_operations_tables() -> None:
    drop_tables("operation_items", "operations")
