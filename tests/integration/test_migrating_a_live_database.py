"""Migrations on a database that replicas are using: one replica migrates at a time, a busy table is never left
with every query queued behind a migration, and an index on it is built without blocking its writers."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from shared.runtime.migrations import PLUMBING_MIGRATIONS, alembic_config
from tests.conftest import eventually
from tests.integration.conftest import SERVICES_DIR
from tools.stack.postgres import scratch_database

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = SERVICES_DIR / "delivery" / "migrations"


# A replica's start, as `python -m services.<name>` migrates: a process of its own (Alembic's context is one per
# process), at a given moment so two begin together; the database URL comes in the environment, off the command line.
MIGRATE = """
import os, sys, time
from pathlib import Path
from shared.runtime.migrations import upgrade_to_head
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade_to_head(Path(sys.argv[1]), os.environ["MIGRATED_DATABASE_URL"])
"""


def start_replica(url: str, at: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", MIGRATE, str(MIGRATIONS), str(at)], cwd=REPO_ROOT,
                            env={**os.environ, "MIGRATED_DATABASE_URL": url}, stderr=subprocess.PIPE, text=True)


def outcome(replica: subprocess.Popen, timeout: float) -> tuple[int | None, str]:
    """The replica's exit code and what it wrote on stderr; None if it is still running after `timeout` s."""
    try:
        _, errors = replica.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return replica.returncode, errors


def raised(errors: str) -> str:
    """The exception a replica's traceback ends with."""
    return next((line for line in reversed(errors.splitlines()) if "Error: " in line), errors[-500:])


def head(migrations_dir) -> str:
    return ScriptDirectory.from_config(alembic_config(migrations_dir, "postgresql://")).get_current_head()


def new_outbox_row() -> dict:
    return {"id": uuid.uuid4(), "destination": "kafka", "topic": "t", "key": "k", "payload": "{}"}


INSERT_OUTBOX_ROW = text("INSERT INTO outbox (id, destination, topic, key, payload) "
                         "VALUES (:id, :destination, :topic, :key, CAST(:payload AS jsonb))")


def migrated_before_the_plumbing(url: str, plumbing_revision: str | None) -> None:
    """The service's own migrations at head, the plumbing's up to `plumbing_revision` (none if None)."""
    command.upgrade(alembic_config(MIGRATIONS, url), "head")
    if plumbing_revision:
        command.upgrade(alembic_config(PLUMBING_MIGRATIONS, url), plumbing_revision)


def test_two_replicas_starting_at_once_migrate_the_database_once(stack):
    with scratch_database(stack, "two_replicas") as url:
        at = time.time() + 3  # both processes have imported everything by then
        replicas = [start_replica(url, at) for _ in range(2)]
        outcomes = [outcome(replica, 120) for replica in replicas]
        assert [code for code, _ in outcomes] == [0, 0], [raised(errors) for _, errors in outcomes]
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == \
                    [head(MIGRATIONS)]
                assert connection.execute(text("SELECT version_num FROM alembic_version_plumbing")).scalars().all() == \
                    [head(PLUMBING_MIGRATIONS)]
        finally:
            engine.dispose()


def test_a_migration_waiting_for_a_busy_tables_lock_gives_up_with_the_cause_and_the_fix(stack):
    with scratch_database(stack, "busy_table") as url:
        migrated_before_the_plumbing(url, None)  # the plumbing's first migration alters the outbox
        engine = create_engine(url)
        try:
            with engine.connect() as reader:
                reader.execute(text("SELECT count(*) FROM outbox"))  # a long read: its transaction stays open
                began = time.monotonic()
                replica = start_replica(url)
                code, errors = outcome(replica, 30)
                gave_up_after = time.monotonic() - began
                reader.rollback()
                replica.communicate(timeout=60)
        finally:
            engine.dispose()
        assert code is not None, "the migration was still waiting for the outbox's lock after 30 s"
        assert code != 0
        assert gave_up_after < 20
        assert "ALTER TABLE outbox" in errors
        assert "lock" in errors and "MIGRATION_LOCK_TIMEOUT_SECONDS" in errors


def test_an_index_on_a_busy_table_is_built_without_stopping_its_writers(stack):
    with scratch_database(stack, "busy_index") as url:
        migrated_before_the_plumbing(url, "0001")  # the next plumbing migrations index the outbox and the inbox
        engine = create_engine(url)
        try:
            with engine.connect() as writer, engine.connect() as other_writer, engine.connect() as watcher:
                writer.execute(INSERT_OUTBOX_ROW, new_outbox_row())  # not committed yet
                replica = start_replica(url)

                def index_build_waiting() -> bool:
                    # A transaction reads pg_stat_activity once: each look is a transaction of its own.
                    with watcher.begin():
                        return watcher.execute(text(
                            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND query ILIKE '%CREATE INDEX%'")).first() is not None
                eventually(index_build_waiting, timeout=20, what="the index build waiting for the open write")
                other_writer.execute(text("SET lock_timeout = '2s'"))
                try:
                    other_writer.execute(INSERT_OUTBOX_ROW, new_outbox_row())
                    other_writer.commit()
                    blocked = None
                except Exception as error:  # noqa: BLE001 - reported below, once the migration is let go
                    other_writer.rollback()
                    blocked = error
                writer.commit()
                code, errors = outcome(replica, 60)
            assert blocked is None, f"a writer waited behind the index build: {blocked}"
            assert code == 0, raised(errors)
            with engine.connect() as connection:
                assert connection.execute(text(
                    "SELECT count(*) FROM pg_index WHERE NOT indisvalid")).scalar() == 0
                assert connection.execute(text("SELECT version_num FROM alembic_version_plumbing")).scalar() == \
                    head(PLUMBING_MIGRATIONS)
        finally:
            engine.dispose()


def test_an_index_build_that_gave_up_is_built_afresh_at_the_next_start(stack):
    with scratch_database(stack, "index_again") as url:
        migrated_before_the_plumbing(url, "0001")
        engine = create_engine(url)
        try:
            with engine.connect() as writer:
                writer.execute(INSERT_OUTBOX_ROW, new_outbox_row())  # open past the lock timeout
                code, errors = outcome(start_replica(url), 30)
                writer.commit()
            assert code not in (None, 0), "the index build did not give up while the write stayed open"
            assert "CREATE INDEX CONCURRENTLY" in errors and "MIGRATION_LOCK_TIMEOUT_SECONDS" in errors
            with engine.connect() as connection:  # what a build stopped part way leaves
                assert connection.execute(text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")).scalar() == 1

            code, errors = outcome(start_replica(url), 60)
            assert code == 0, raised(errors)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")).scalar() == 0
                assert connection.execute(text("SELECT version_num FROM alembic_version_plumbing")).scalar() == \
                    head(PLUMBING_MIGRATIONS)
        finally:
            engine.dispose()
