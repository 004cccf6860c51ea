"""Engine, sessions and the unit of work: one transaction per command, committed or rolled back whole."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """State changes and their outbox rows commit together, or nothing does."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def serialise_on(session: Session, key: str) -> None:
    """Serialise this transaction with any other one about the same key, e.g. an order (released at commit).

    Work and its undo can otherwise interleave: a retried job that was cancelled in the engine may
    still be running its transaction while the compensation for the order commits.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
