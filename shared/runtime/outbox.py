"""Transactional outbox: rows written with the state change, relayed to Kafka and Zeebe afterwards.

A crash between commit and publish only delays a message; a crash between publish and marking it
sent publishes it again, which consumers absorb (inbox) and Zeebe rejects (message id).

Kafka rows and Zeebe rows are relayed by two independent lanes, so an outage of one broker never
holds back the other. Within a lane, rows of one key (an order, a shipment) go out in the order
they were written (`seq`), also with several replicas relaying; a key whose row fails waits alone.
A Zeebe message is published only within its time to live counted from when it was written: a
later copy would fall outside the engine's de-duplication window (e.g. start a second process
instance for a finished order), so it is marked expired for the reconciler instead.

Published rows are kept for a while (to trace an event back), then deleted: the table would otherwise
grow with every event for as long as a deployment runs.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Protocol

from confluent_kafka import Producer
from prometheus_client.core import GaugeMetricFamily, Metric
from pyzeebe import ZeebeClient
from pyzeebe.errors import MessageAlreadyExistsError, ZeebeBackPressureError
from sqlalchemy import bindparam, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from shared.runtime.backoff import FailureBackoff
from shared.runtime.db import Wakeups, signal_on_commit, unit_of_work
from shared.runtime.envelope import Envelope, EventPayload
from shared.runtime.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from shared.runtime.tables import outbox

log = logging.getLogger(__name__)

ZEEBE_TIMEOUT_SECONDS = 15
KAFKA_TIMEOUT_SECONDS = 15
UNPUBLISHED = outbox.c.published_at.is_(None) & outbox.c.expired_at.is_(None)

# The statements of every event's path, built once: building one costs SQLAlchemy more CPU than running it.
_ADD_ROW = insert(outbox)
_MARK_PUBLISHED = (update(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True)))
                   .values(published_at=func.now()))


class Publishing(Protocol):
    """What a publisher needs to know of its service (the contracts' registry entry has it)."""

    @property
    def source(self) -> str: ...

    @property
    def events_topic(self) -> str: ...


class EventPublisher:
    """Adds a service's domain events to its outbox, wrapped in the CloudEvents envelope."""

    def __init__(self, source: str, topic: str) -> None:
        self.source = source
        self.topic = topic

    @classmethod
    def of(cls, service: Publishing) -> EventPublisher:
        """The service's own: its CloudEvents source, its events topic."""
        return cls(service.source, service.events_topic)

    def publish(self, session: Connection, event: EventPayload, *, causation_id: str | None = None) -> Envelope:
        """`causation_id`: the id of the consumed event this one follows from, so a chain can be traced back."""
        envelope = Envelope.wrap(event, source=self.source, causation_id=causation_id)
        add_kafka_event(session, self.topic, envelope)
        return envelope


def add_kafka_event(session: Connection, topic: str, envelope: Envelope) -> None:
    payload = {
        "id": envelope.id,
        "type": envelope.type,
        "source": envelope.source,
        "subject": envelope.subject,
        "time": envelope.time.isoformat(),
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "data": envelope.data,
    }
    session.execute(_ADD_ROW, {"id": uuid.uuid4(), "destination": "kafka", "topic": topic, "key": envelope.subject,
                               "payload": payload})
    signal_on_commit(session, lane_signal("kafka"))


def add_zeebe_message(session: Connection, *, name: str, correlation_key: str, message_id: str,
                      variables: dict[str, Any], ttl_ms: int = 3_600_000) -> None:
    """Zeebe keeps the message `ttl_ms` and refuses a second one with the same id meanwhile."""
    session.execute(_ADD_ROW, {"id": uuid.uuid4(), "destination": "zeebe", "topic": name, "key": correlation_key,
                               "payload": {"message_id": message_id, "variables": variables, "ttl_ms": ttl_ms}})
    signal_on_commit(session, lane_signal("zeebe"))


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


def _envelope_from_row(payload: dict[str, Any]) -> Envelope:
    return Envelope(
        id=payload["id"], type=payload["type"], source=payload["source"], subject=payload["subject"],
        time=datetime.fromisoformat(payload["time"]), correlation_id=payload["correlation_id"],
        causation_id=payload["causation_id"], data=payload["data"],
    )


def kafka_producer(bootstrap: str) -> Producer:
    return Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
    })


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


class OutboxLane:
    """Relays one destination's unpublished rows, oldest first, each key's rows in order; one thread."""

    destination: str

    def __init__(self, sessions: Engine, poll_seconds: float, batch_size: int = 100,
                 wake: threading.Event | None = None) -> None:
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # Set when this process commits rows for the lane; the poll finds rows other replicas left.
        self.wake = wake or threading.Event()
        # Whether the last claim filled a batch, so more rows may wait right now.
        self.more_waiting = False
        mine = UNPUBLISHED & (outbox.c.destination == self.destination)
        # Each row comes with the database's clock at the start of the transaction, the clock `created_at` was
        # written with (a Zeebe message's time to live counts from it).
        self.next_rows = (select(outbox, func.now().label("claimed_at")).where(mine).order_by(outbox.c.seq)
                          .limit(batch_size).with_for_update(skip_locked=True))
        self.rows_of_keys = (select(outbox.c.key, outbox.c.seq)
                             .where(mine, outbox.c.key.in_(bindparam("keys", expanding=True)),
                                    outbox.c.seq <= bindparam("last"))
                             .order_by(outbox.c.seq))

    def run(self, stop: threading.Event) -> None:
        failures = FailureBackoff(f"outbox relay to {self.destination}", log)
        while not stop.is_set():
            self.wake.clear()  # before the claim: a commit during this round makes the next start at once
            try:
                relayed = self.relay_batch()
            except Exception:  # the rows stay unpublished and are relayed when the broker is back
                stop.wait(failures.failed())
                continue
            failures.succeeded()
            if relayed == 0 or not self.more_waiting:
                self.wake.wait(self.poll_seconds)

    def relay_batch(self) -> int:
        """Publishes what it can of one batch; returns how many rows went out, raises when none could."""
        with unit_of_work(self.sessions) as session:
            rows = self.claim(session)
            if not rows:
                return 0
            failed = self.publish(rows, session)
            # Marked by primary key: only unpublished rows are indexed by `seq`, and the table keeps published ones.
            published = [row.id for row in rows if row.seq not in failed]
            if published:
                session.execute(_MARK_PUBLISHED, {"ids": published})
            for row in rows:
                if row.seq in failed:
                    session.execute(update(outbox).where(outbox.c.id == row.id)
                                    .values(attempts=outbox.c.attempts + 1, last_error=failed[row.seq][:2000]))
        # Counted after the commit: a row is published once it is marked so.
        OUTBOX_PUBLISHED.labels(self.destination).inc(len(published))
        OUTBOX_PUBLISH_FAILURES.labels(self.destination).inc(len(failed))
        if failed and not published:
            raise ConnectionError(f"no {self.destination} row could be published: {next(iter(failed.values()))}")
        return len(published)

    def claim(self, session: Connection) -> list:
        """The batch's rows that are next in line for their key; another replica may hold earlier ones."""
        rows = session.execute(self.next_rows).all()
        self.more_waiting = len(rows) == self.batch_size
        if not rows:
            return []
        mine = {row.seq for row in rows}
        waiting = session.execute(self.rows_of_keys, {"keys": list({row.key for row in rows}), "last": max(mine)}).all()
        return [row for row in rows if row.seq in next_in_line(waiting, mine)]

    def publish(self, rows: list, session: Connection) -> dict[int, str]:
        """Publishes the rows, each key's in order; returns the failed rows' seq -> error."""
        raise NotImplementedError


def next_in_line(waiting: list[tuple[str, int]], mine: set[int]) -> set[int]:
    """Of `waiting` (key, seq) in seq order, the rows in `mine` that no other row of their key precedes."""
    blocked: set[str] = set()
    ready: set[int] = set()
    for key, seq in waiting:
        if key in blocked:
            continue
        if seq in mine:
            ready.add(seq)
        else:
            blocked.add(key)
    return ready


def by_place_in_key(rows: list) -> list[list]:
    """`rows` (in seq order) in waves: every key's first row, then every key's second, and so on."""
    waves: list[list] = []
    place: dict[str, int] = {}
    for row in rows:
        at = place[row.key] = place.get(row.key, -1) + 1
        if at == len(waves):
            waves.append([])
        waves[at].append(row)
    return waves


class KafkaLane(OutboxLane):
    """Publishes a batch a wave at a time: every key's first row, then every key's second, and so on.

    Kafka acknowledges each record on its own, so a key's next record could land while the one before it failed
    (and would go out after it on the next round): a key's next row is produced only once the one before it was
    acknowledged, and a key whose row failed waits for the next round while the other keys go on.
    """

    destination = "kafka"

    def __init__(self, sessions: Engine, producer: Producer, poll_seconds: float,
                 batch_size: int = 100, wake: threading.Event | None = None) -> None:
        super().__init__(sessions, poll_seconds, batch_size, wake)
        self.producer = producer

    def publish(self, rows: list, session: Connection) -> dict[int, str]:
        failed: dict[int, str] = {}
        held: dict[str, str] = {}  # a key whose row failed -> why; its later rows wait for the next round
        for wave in by_place_in_key(rows):
            sending = [row for row in wave if row.key not in held]
            if sending:
                failed.update(self.produce_wave(sending))
            for row in wave:
                if row.key in held:
                    failed[row.seq] = held[row.key]
                elif row.seq in failed:
                    held[row.key] = failed[row.seq]
        return failed

    def produce_wave(self, rows: list) -> dict[int, str]:
        """Produces one row per key and waits for Kafka to acknowledge them; returns the failed rows' seq -> error."""
        failed: dict[int, str] = {}

        def delivered(seq: int):
            def on_delivery(error, _message) -> None:
                if error is not None:
                    failed[seq] = f"KafkaError: {error}"
            return on_delivery

        for row in rows:
            try:
                message = _envelope_from_row(row.payload).to_kafka()
                self.producer.produce(row.topic, key=message.key, value=message.value,
                                      headers=list(message.headers.items()), on_delivery=delivered(row.seq))
            except Exception as exc:  # refused at once (too large, queue full): only this row's key waits
                failed[row.seq] = f"{type(exc).__name__}: {exc}"
        remaining = self.producer.flush(KAFKA_TIMEOUT_SECONDS)
        if remaining:
            # Not acknowledged in time: all stay unpublished; the idempotent producer drops resends.
            return {row.seq: f"{remaining} records not acknowledged by Kafka" for row in rows}
        return failed

    def run(self, stop: threading.Event) -> None:
        super().run(stop)
        self.producer.flush(10)


class ZeebeLane(OutboxLane):
    """Publishes concurrently across correlation keys and in order within one.

    Under load the broker takes a few hundred milliseconds to answer each publish, so one at a time
    would hold back every order's start. Back-pressure from the broker narrows how many publishes
    are in flight (and widens it again as they succeed) instead of failing the batch.
    """

    destination = "zeebe"

    def __init__(self, sessions: Engine, zeebe: ZeebeClient, loop: asyncio.AbstractEventLoop,
                 poll_seconds: float, batch_size: int = 100, wake: threading.Event | None = None) -> None:
        super().__init__(sessions, poll_seconds, batch_size, wake)
        self.zeebe = zeebe
        self.loop = loop
        self.in_flight = AdaptiveLimit(initial=16, maximum=64)

    def claim(self, session: Connection) -> list:
        rows = super().claim(session)
        expired = {row.id for row in rows if remaining_ttl_ms(row, row.claimed_at) <= 0}
        if expired:
            now = rows[0].claimed_at
            for row in rows:
                if row.id in expired:
                    log.warning("%s message %s for %s outlived its time to live unpublished; marked expired",
                                row.topic, row.payload["message_id"], row.key)
            session.execute(update(outbox).where(outbox.c.id.in_(expired)).values(expired_at=now))
        return [row for row in rows if row.id not in expired]

    def publish(self, rows: list, session: Connection) -> dict[int, str]:
        publishing = self.publish_all(rows)
        return asyncio.run_coroutine_threadsafe(publishing, self.loop).result(
            timeout=ZEEBE_TIMEOUT_SECONDS * (len(rows) + 1))

    async def publish_all(self, rows: list) -> dict[int, str]:
        by_key: dict[str, list] = {}
        for row in rows:
            by_key.setdefault(row.key, []).append(row)
        failed: dict[int, str] = {}

        async def publish_in_order(rows_of_key) -> None:
            for position, row in enumerate(rows_of_key):
                try:
                    await self.publish_one(row, remaining_ttl_ms(row, row.claimed_at))
                except Exception as exc:
                    # This key's later rows wait for the next round, to keep its order.
                    for held in rows_of_key[position:]:
                        failed[held.seq] = f"{type(exc).__name__}: {exc}"
                    return

        await asyncio.gather(*(publish_in_order(rows_of_key) for rows_of_key in by_key.values()))
        return failed

    async def publish_one(self, row, ttl_ms: int) -> None:
        payload = row.payload
        deadline = asyncio.get_running_loop().time() + ZEEBE_TIMEOUT_SECONDS
        while True:
            async with self.in_flight:
                try:
                    await asyncio.wait_for(self.zeebe.publish_message(
                        name=row.topic, correlation_key=row.key, variables=payload["variables"],
                        time_to_live_in_milliseconds=ttl_ms, message_id=payload["message_id"],
                    ), ZEEBE_TIMEOUT_SECONDS)
                    self.in_flight.succeeded()
                    return
                except MessageAlreadyExistsError:
                    log.info("message %s %s was already published", row.topic, payload["message_id"])
                    return
                except ZeebeBackPressureError:
                    self.in_flight.pushed_back()
                    if asyncio.get_running_loop().time() > deadline:
                        raise
            await asyncio.sleep(0.05)


def remaining_ttl_ms(row, now: datetime) -> int:
    """The message's time to live left, counted from when its row was written."""
    return row.payload["ttl_ms"] - int((now - row.created_at).total_seconds() * 1000)


class AdaptiveLimit:
    """An async limit on calls in flight that halves on back-pressure and grows by one per success."""

    def __init__(self, initial: int, maximum: int) -> None:
        self.limit = initial
        self.maximum = maximum
        self.active = 0
        self.changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: self.active < self.limit)
            self.active += 1

    async def __aexit__(self, *_) -> None:
        async with self.changed:
            self.active -= 1
            self.changed.notify_all()

    def pushed_back(self) -> None:
        self.limit = max(1, self.limit // 2)

    def succeeded(self) -> None:
        self.limit = min(self.maximum, self.limit + 1)


class OutboxRelay:
    """Both lanes of a service's outbox, each to run in its own thread."""

    def __init__(self, sessions: Engine, producer: Producer, zeebe: ZeebeClient,
                 loop: asyncio.AbstractEventLoop, poll_seconds: float, wakeups: Wakeups | None = None) -> None:
        wakeups = wakeups or Wakeups(sessions)
        self.kafka = KafkaLane(sessions, producer, poll_seconds, wake=wakeups.event(lane_signal("kafka")))
        self.zeebe = ZeebeLane(sessions, zeebe, loop, poll_seconds, wake=wakeups.event(lane_signal("zeebe")))

    @property
    def lanes(self) -> list[OutboxLane]:
        return [self.kafka, self.zeebe]
