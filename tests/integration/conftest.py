"""Scratch databases (empty, or with the plumbing tables), so these tests never touch a service's data."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from runtime.db import make_session_factory
from runtime.tables import metadata


@pytest.fixture
def scratch_database(stack) -> str:
    """An empty database of the test's own on the stack's PostgreSQL (its URL), dropped afterwards."""
    name = f"scratch_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{stack.postgres_port}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:{stack.postgres_port}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def scratch_sessions(scratch_database):
    engine = create_engine(scratch_database)
    metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def scratch_topic(stack):
    from tools.bootstrap import ensure_topics

    name = f"test.{uuid.uuid4().hex[:8]}"
    ensure_topics(stack.kafka_bootstrap, [name, f"{name}.dead-letter"])
    return name
