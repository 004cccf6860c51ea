"""Engine and the unit of work: one transaction per command, committed or rolled back whole.

A "session" in this code base is a connection in its transaction (`unit_of_work`), and "sessions" the engine
that hands them out.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

T = TypeVar("T")

# Bounds on every wait for the database, so a job handler's worst case stays well inside its job timeout
# (shared.runtime.zeebe.JOB_TIMEOUT_MS) and an outage shows up as an error to retry rather than a hang.
CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10
LOCK_TIMEOUT_MS = 10_000
STATEMENT_TIMEOUT_MS = 15_000
# Connections kept open: as many as a busy process uses at once (HTTP threads, consumer, relay lanes, job handlers).
# Past them, each new one is opened and closed again, and a PostgreSQL backend that starts, authenticates (SCRAM)
# and warms its caches for one transaction cost more CPU than everything it then ran (measured with `make bench`).
POOL_SIZE = 20
POOL_OVERFLOW = 20


def make_engine(url: str) -> Engine:
    # hide_parameters: an SQL error names the statement but not the values bound to it (an address, say), so
    # no log line, job failure or incident message carries them.
    return create_engine(
        url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=POOL_TIMEOUT_SECONDS,
        hide_parameters=True,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Connection]:
    """State changes and their outbox rows commit together, or nothing does.

    A plain connection in its transaction, not an ORM session: the services write tables through SQLAlchemy Core
    only, and a session's bookkeeping cost more CPU per statement than the statement.
    """
    with engine.connect() as connection:
        try:
            yield connection
            connection.commit()
        except BaseException:
            connection.info.pop(_SIGNALS, None)  # what the failed work signalled wakes nobody
            connection.rollback()
            raise


def again_if_raced(work: Callable[[], T]) -> T:
    """Runs `work`, a whole unit of work, and once more if a concurrent one committed the same unique key first
    (two requests with one Idempotency-Key): the second run finds what the first one wrote."""
    try:
        return work()
    except IntegrityError:
        return work()


_SERIALISE_ON = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def serialise_on(session: Connection, key: str) -> None:
    """Serialise this transaction with any other one about the same key, e.g. an order (released at commit).

    Work and its undo can otherwise interleave: a retried job that was cancelled in the engine may
    still be running its transaction while the compensation for the order commits.
    """
    session.execute(_SERIALISE_ON, {"key": key})


_SIGNALS = "signals_on_commit"
# Items kept per signal for the loop that takes them (a few hundred bytes each).
HANDED_OVER_AT_MOST = 10_000


def signal_on_commit(session: Connection, signal: str, handed: object | None = None) -> None:
    """Wake what waits for `signal` in this process (see `Wakeups`) once this unit of work commits, handing it
    `handed` if given (e.g. an outbox row the work wrote, so the relay need not look for it)."""
    signals = session.info.setdefault(_SIGNALS, {})
    items = signals.setdefault(signal, [])
    if handed is not None:
        items.append(handed)


class Wakeups:
    """Lets a loop sleep until a transaction of its own process commits work for it, instead of polling
    often: an order's path crosses several outbox relays and loops, and each poll interval adds to it.
    Work another process wrote is still found by the loop's (slower) poll."""

    def __init__(self, engine: Engine) -> None:
        self.events: dict[str, threading.Event] = {}
        self.handed: dict[str, deque] = {}
        # A unit of work returns its connection to the pool once it committed (a failed one has dropped its
        # signals by then): the rows are visible to every other connection from that moment.
        event.listen(engine, "checkin", self._returned)

    def event(self, signal: str) -> threading.Event:
        return self.events.setdefault(signal, threading.Event())

    def handed_over(self, signal: str) -> deque:
        """What committed units of work handed with `signal`, oldest first, for the one loop that takes it.
        Only a signal someone takes collects anything: without a taker the items are dropped at commit.

        Bounded: while the loop cannot keep up (its broker is down for an hour at full rate) the oldest items
        are dropped, which the loop's poll finds in the database anyway, instead of memory growing with the outage.
        """
        return self.handed.setdefault(signal, deque(maxlen=HANDED_OVER_AT_MOST))

    def _returned(self, _dbapi_connection, record) -> None:
        for signal, items in record.info.pop(_SIGNALS, {}).items():
            if signal in self.handed:
                self.handed[signal].extend(items)  # before the wakeup, so the woken loop finds them
            if signal in self.events:
                self.events[signal].set()
