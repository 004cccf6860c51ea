"""Pooled connections: tested before use only after being idle, and a dead idle one never reaches a transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from runtime import db
from runtime.db import make_engine, make_session_factory, unit_of_work
from tools.stack.postgres import scratch_database


@pytest.fixture
def pooled(stack):
    with scratch_database(stack, "pool_test") as url:
        engine = make_engine(url)
        pings = []
        real_ping = engine.dialect.do_ping
        engine.dialect.do_ping = lambda connection: pings.append(1) or real_ping(connection)
        yield make_session_factory(engine), pings
        engine.dispose()


def backend_pid(sessions) -> int:
    with unit_of_work(sessions) as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_used_moments_ago_is_not_pinged_and_an_idle_one_is(pooled, monkeypatch):
    sessions, pings = pooled
    for _ in range(5):
        backend_pid(sessions)
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    backend_pid(sessions)
    assert pings == [1]


def test_an_idle_connection_whose_backend_died_is_replaced_before_a_transaction_uses_it(stack, pooled, monkeypatch):
    sessions, pings = pooled
    first = backend_pid(sessions)
    # What a PostgreSQL restart does to every pooled connection: its backend is gone.
    admin = create_engine(stack.superuser_database_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    admin.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    second = backend_pid(sessions)  # no error: the dead connection was found and replaced
    assert second != first
    assert pings
