"""Loops woken by their own process's commits: only a committed transaction that signalled wakes them."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from runtime.db import Wakeups, make_session_factory, signal_on_commit, unit_of_work


def sessions_and_wakeups():
    sessions = make_session_factory(create_engine("sqlite://"))  # no database server: only the events matter
    return sessions, Wakeups(sessions)


def test_a_commit_that_signalled_wakes_its_loop_and_no_other():
    sessions, wakeups = sessions_and_wakeups()
    relay, courier = wakeups.event("outbox:kafka"), wakeups.event("delivery.courier-assigned")
    with unit_of_work(sessions) as session:
        session.execute(text("SELECT 1"))
        signal_on_commit(session, "outbox:kafka")
        assert not relay.is_set(), "woken before the commit, when the rows are not visible yet"
    assert relay.is_set()
    assert not courier.is_set()


def test_a_rolled_back_transaction_wakes_nobody():
    sessions, wakeups = sessions_and_wakeups()
    relay = wakeups.event("outbox:zeebe")
    try:
        with unit_of_work(sessions) as session:
            signal_on_commit(session, "outbox:zeebe")
            raise RuntimeError("the command failed")
    except RuntimeError:
        pass
    assert not relay.is_set()


def test_the_signal_belongs_to_one_transaction_not_to_the_session():
    sessions, wakeups = sessions_and_wakeups()
    relay = wakeups.event("outbox:kafka")
    session = sessions()
    session.execute(text("SELECT 1"))
    signal_on_commit(session, "outbox:kafka")
    session.rollback()
    session.execute(text("SELECT 1"))
    session.commit()
    assert not relay.is_set(), "a later transaction of the same session woke the relay for rows that were rolled back"
    session.close()
