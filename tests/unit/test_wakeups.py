"""Loops woken by their own process's commits: only a committed transaction that signalled wakes them."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from shared.runtime.db import Wakeups, signal_on_commit, unit_of_work


def sessions_and_wakeups():
    sessions = create_engine("sqlite://")  # no database server: only the events matter
    return sessions, Wakeups(sessions)


def fail_after_signalling(sessions, signal: str) -> None:
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        signal_on_commit(session, signal)
        raise RuntimeError("the command failed")


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
    fail_after_signalling(sessions, "outbox:zeebe")
    assert not relay.is_set()


def test_a_failed_unit_of_work_leaves_nothing_for_the_next_one_on_its_pooled_connection():
    sessions, wakeups = sessions_and_wakeups()
    relay = wakeups.event("outbox:kafka")
    fail_after_signalling(sessions, "outbox:kafka")
    with unit_of_work(sessions) as session:
        session.execute(text("SELECT 1"))
    assert not relay.is_set(), "the next unit of work on the same pooled connection woke the relay"


def test_a_commit_hands_what_it_wrote_to_the_loop_that_takes_it_and_a_rollback_hands_nothing():
    sessions, wakeups = sessions_and_wakeups()
    relay, handed = wakeups.event("outbox:kafka"), wakeups.handed_over("outbox:kafka")
    fail_after_signalling(sessions, "outbox:kafka")
    with unit_of_work(sessions) as session:
        session.execute(text("SELECT 1"))
        signal_on_commit(session, "outbox:kafka", "row-1")
        signal_on_commit(session, "outbox:kafka", "row-2")
        signal_on_commit(session, "outbox:zeebe", "nobody takes it")
        assert not handed, "handed over before the commit, when the rows are not visible yet"
    assert relay.is_set() and list(handed) == ["row-1", "row-2"]
    assert "outbox:zeebe" not in wakeups.handed, "what no loop takes is not kept"


def test_what_a_loop_cannot_take_in_time_is_bounded_and_the_oldest_goes_first(monkeypatch):
    monkeypatch.setattr("shared.runtime.db.HANDED_OVER_AT_MOST", 3)
    sessions, wakeups = sessions_and_wakeups()
    handed = wakeups.handed_over("outbox:kafka")  # a lane whose broker is down takes nothing
    for row in range(5):
        with unit_of_work(sessions) as session:
            session.execute(text("SELECT 1"))
            signal_on_commit(session, "outbox:kafka", f"row-{row}")
    assert list(handed) == ["row-2", "row-3", "row-4"], "the dropped rows are the poll's to find"
