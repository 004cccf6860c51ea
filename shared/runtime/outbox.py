"""Transactional outbox, the write side: a use case's unit of work, whose events and Zeebe messages are rows
written with its state change and relayed once it commits (shared.runtime.relay); and what can be read of them.

A crash between commit and publish only delays a message; a crash between publish and marking it
sent publishes it again, which consumers absorb (inbox) and Zeebe rejects (message id).

Published rows are kept for a while (to trace an event back), then deleted: the table would otherwise
grow with every event for as long as a deployment runs.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.engine import Connection, Engine

from shared.runtime.db import signal_on_commit, unit_of_work
from shared.runtime.envelope import Envelope, EventPayload
from shared.runtime.tables import outbox
from shared.runtime.tracing import current_traceparent

T = TypeVar("T")

UNPUBLISHED = outbox.c.published_at.is_(None) & outbox.c.expired_at.is_(None)

# Built once: building a statement costs SQLAlchemy more CPU than running it, and every event's path runs this one.
# The row's `seq` comes back so the relay of this process can take the row over at commit without looking for it.
_ADD_ROW = insert(outbox).returning(outbox.c.seq)


class Publishing(Protocol):
    """What a unit of work needs to know of its service (the contracts' registry entry has it)."""

    @property
    def source(self) -> str: ...

    @property
    def events_topic(self) -> str: ...


# A Zeebe message as its declaration builds it (shared.contracts.base.Message.to): its name, correlation key,
# message id, variables and time to live in milliseconds.
ZeebeMessage = tuple[str, str, str, dict[str, Any], int]


@dataclass(frozen=True)
class Written:
    """An outbox row a unit of work wrote, handed to its process's relay lane when it commits."""

    id: uuid.UUID
    key: str
    seq: int


class UnitOfWork:
    """What a use case is given: its transaction, for the service's own tables (`session`), and its one way out,
    events and Zeebe messages, written to the outbox in that transaction and relayed once it commits."""

    def __init__(self, session: Connection, service: Publishing) -> None:
        self.session = session
        self.service = service

    def publish(self, event: EventPayload, *, causation_id: str | None = None) -> Envelope:
        """The event in the service's CloudEvents envelope, for its events topic. `causation_id`: the id of the
        consumed event this one follows from, so a chain can be traced back."""
        envelope = Envelope.wrap(event, source=self.service.source, causation_id=causation_id)
        self._add("kafka", self.service.events_topic, envelope.subject, {
            "id": envelope.id,
            "type": envelope.type,
            "source": envelope.source,
            "subject": envelope.subject,
            "time": envelope.time.isoformat(),
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "data": envelope.data,
        })
        return envelope

    def send(self, message: ZeebeMessage) -> None:
        """Zeebe keeps the message its time to live and refuses a second one with the same id meanwhile."""
        name, correlation_key, message_id, variables, ttl_ms = message
        self._add("zeebe", name, correlation_key, {"message_id": message_id, "variables": variables, "ttl_ms": ttl_ms})

    def _add(self, destination: str, topic: str, key: str, payload: dict[str, Any]) -> None:
        row_id = uuid.uuid4()
        # The row keeps the trace of the work that wrote it: the relay publishes it later, on another thread.
        seq = self.session.execute(_ADD_ROW, {"id": row_id, "destination": destination, "topic": topic, "key": key,
                                              "payload": payload, "traceparent": current_traceparent()}).scalar_one()
        signal_on_commit(self.session, lane_signal(destination), Written(row_id, key, seq))


class UnitsOfWork:
    """Opens a service's units of work: `with units() as uow:`, one transaction each, committed or rolled back
    whole. Built once per service from its engine and its registry entry."""

    def __init__(self, sessions: Engine, service: Publishing) -> None:
        self.sessions = sessions
        self.service = service

    @contextmanager
    def __call__(self) -> Iterator[UnitOfWork]:
        with unit_of_work(self.sessions) as session:
            yield UnitOfWork(session, self.service)


def loop_step(service: Publishing, use_case: Callable[[UnitOfWork], T]) -> Callable[[Connection], T]:
    """`use_case` of `service` as the step of a loop that opens the transaction itself
    (shared.runtime.service.polling_loop)."""
    return lambda session: use_case(UnitOfWork(session, service))


_LATER = outbox.alias("later")
_NOT_ANSWERED = ~exists().where(_LATER.c.destination == outbox.c.destination, _LATER.c.key == outbox.c.key,
                                _LATER.c.topic == outbox.c.topic, _LATER.c.seq > outbox.c.seq)


def expired_messages(session: Connection, names: Collection[str], *, after: int = 0, limit: int = 100):
    """Zeebe messages of these names that expired unpublished and were not written again since (no resend yet),
    in write order from `seq` `after`: rows with id, seq, topic (the name), key (the correlation key), payload."""
    return session.execute(
        select(outbox.c.id, outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.payload)
        .where(outbox.c.expired_at.is_not(None), outbox.c.destination == "zeebe", outbox.c.topic.in_(names),
               outbox.c.seq > after, _NOT_ANSWERED)
        .order_by(outbox.c.seq).limit(limit)
    ).all()


def latest_message(session: Connection, name: str, correlation_key: str):
    """The newest row of a Zeebe message for one key (seq, published_at, expired_at, attempts, last_error, age in
    seconds), or None: what the reconciler reads of an order's messages."""
    return session.execute(
        select(outbox.c.topic, outbox.c.seq, outbox.c.published_at, outbox.c.expired_at, outbox.c.attempts,
               outbox.c.last_error, func.extract("epoch", func.now() - outbox.c.created_at).label("age"))
        .where(outbox.c.destination == "zeebe", outbox.c.key == correlation_key, outbox.c.topic == name)
        .order_by(outbox.c.seq.desc()).limit(1)
    ).first()


def lane_signal(destination: str) -> str:
    """What a transaction that wrote rows for `destination` signals on commit, to wake that lane."""
    return f"outbox:{destination}"


LANES = ("kafka", "zeebe")


def backlog_by_lane(session: Connection) -> tuple[dict[str, tuple[int, float]], int]:
    """Per lane, the rows waiting and the oldest's age in seconds; and how many rows expired unpublished."""
    rows = session.execute(
        select(outbox.c.destination, func.count(), func.extract("epoch", func.now() - func.min(outbox.c.created_at)))
        .where(UNPUBLISHED).group_by(outbox.c.destination)
    ).all()
    expired = session.execute(select(func.count()).where(outbox.c.expired_at.is_not(None))).scalar_one()
    return {destination: (count, float(age)) for destination, count, age in rows}, expired


def outbox_backlog(session: Connection) -> dict[str, Any]:
    """What waits to be published per destination, how old the oldest is, and how many expired."""
    waiting, expired = backlog_by_lane(session)
    return {
        "unpublished": {destination: count for destination, (count, _) in waiting.items()},
        "oldest_unpublished_seconds": round(max((age for _, age in waiting.values()), default=0.0), 1),
        "expired": expired,
    }


def backlog_metrics(session: Connection) -> list[Metric]:
    """The backlog as gauges, read when Prometheus scrapes.

    Read at scrape rather than kept up to date by the lanes: a lane may run many rounds a second,
    Prometheus every few seconds, and two indexed counts per scrape cost less than two per round.
    """
    waiting, expired = backlog_by_lane(session)
    rows = GaugeMetricFamily("fulfil_outbox_backlog_rows", "Outbox rows waiting to be published, per lane.",
                             labels=["lane"])
    age = GaugeMetricFamily("fulfil_outbox_oldest_unpublished_age_seconds",
                            "Age of the oldest outbox row waiting to be published (0 when none waits), per lane.",
                            labels=["lane"])
    for lane in LANES:
        count, oldest = waiting.get(lane, (0, 0.0))
        rows.add_metric([lane], count)
        age.add_metric([lane], oldest)
    return [rows, age, GaugeMetricFamily("fulfil_outbox_expired_rows",
                                         "Zeebe messages that outlived their time to live unpublished.", expired)]


def delete_published(session: Connection, kept_for: timedelta, batch: int = 1000) -> int:
    """Delete up to `batch` rows published more than `kept_for` ago, oldest first; returns how many went.

    Rows waiting to be published stay, and so do expired ones, which the reconciler and the operators
    read, until the later row of the same message that settled them (its resend) goes: the reconciler
    takes the newest row of a message for the truth, so an expired row must never outlive its resend.
    """
    oldest = session.execute(
        select(outbox.c.id, outbox.c.key, outbox.c.topic, outbox.c.seq)
        .where(outbox.c.published_at < func.now() - kept_for).order_by(outbox.c.published_at).limit(batch)
        .with_for_update(skip_locked=True)  # another replica's round takes other rows
    ).all()
    if not oldest:
        return 0
    last_sent = {}
    for row in oldest:
        last_sent[row.key, row.topic] = max(row.seq, last_sent.get((row.key, row.topic), row.seq))
    expired = session.execute(select(outbox.c.id, outbox.c.key, outbox.c.topic, outbox.c.seq)
                              .where(outbox.c.expired_at.is_not(None))).all()  # few: each one is an alarm
    settled = [row.id for row in expired if row.seq < last_sent.get((row.key, row.topic), row.seq)]
    session.execute(delete(outbox).where(outbox.c.id.in_([row.id for row in oldest] + settled)))
    return len(oldest)
