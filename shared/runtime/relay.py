"""The outbox relay: each service process publishes its outbox rows to Kafka and Zeebe, once their transaction
committed (shared.runtime.outbox writes them).

Kafka rows and Zeebe rows are relayed by two independent lanes, so an outage of one broker never
holds back the other. Within a lane, rows of one key (an order, a shipment) go out in the order
they were written (`seq`), also with several replicas relaying; a key whose row fails waits alone.
A Zeebe message is published only within its time to live counted from when it was written: a
later copy would fall outside the engine's de-duplication window (e.g. start a second process
instance for a finished order), so it is marked expired for the reconciler instead.

The rows a unit of work of this process wrote are handed to its lane when it commits, and the lane
claims them by id; the lane's poll finds only what another replica or a crash left behind.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from confluent_kafka import Producer
from opentelemetry.trace import SpanKind
from pyzeebe import ZeebeClient
from pyzeebe.errors import MessageAlreadyExistsError, ZeebeBackPressureError
from sqlalchemy import bindparam, case, exists, func, select, update
from sqlalchemy.engine import Connection, Engine

from shared.runtime.backoff import FailureBackoff
from shared.runtime.db import Wakeups, unit_of_work
from shared.runtime.envelope import Envelope
from shared.runtime.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from shared.runtime.outbox import UNPUBLISHED, Written, lane_signal
from shared.runtime.tables import outbox
from shared.runtime.tracing import TRACEPARENT, continued, current_traceparent

log = logging.getLogger(__name__)

ZEEBE_TIMEOUT_SECONDS = 15
KAFKA_TIMEOUT_SECONDS = 15

# The statements of every event's path, built once: building one costs SQLAlchemy more CPU than running it.
_MARK_PUBLISHED = (update(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True)))
                   .values(published_at=func.now()))
_EARLIER = outbox.alias("earlier")


def _envelope_from_row(payload: dict[str, Any]) -> Envelope:
    return Envelope(
        id=payload["id"], type=payload["type"], source=payload["source"], subject=payload["subject"],
        time=datetime.fromisoformat(payload["time"]), correlation_id=payload["correlation_id"],
        causation_id=payload["causation_id"], data=payload["data"],
    )


@contextmanager
def relayed(row, system: str, **attributes) -> Iterator[str | None]:
    """The row's publish as a span continuing the trace of the work that wrote it; yields that span's traceparent,
    to send along. A row written outside any trace is published without a span (None): a new trace per message
    nobody asked about would bury the orders' traces, and a process variable of its own would cut an order's."""
    if getattr(row, "traceparent", None) is None:
        yield None
        return
    with continued(f"publish {row.topic}", row.traceparent, kind=SpanKind.PRODUCER,
                   attributes={"messaging.system": system, "messaging.destination.name": row.topic,
                               "fulfil.key": row.key, **attributes}):
        yield current_traceparent()


def kafka_producer(bootstrap: str) -> Producer:
    return Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
    })


class OutboxLane:
    """Relays one destination's unpublished rows, oldest first, each key's rows in order; one thread."""

    destination: str

    def __init__(self, sessions: Engine, poll_seconds: float, batch_size: int = 100,
                 wake: threading.Event | None = None, handed: deque[Written] | None = None) -> None:
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # Set when this process commits rows for the lane, which it hands over in `handed`; the poll finds rows
        # other replicas (or a crash) left, at least every `poll_seconds` however busy the lane is.
        self.wake = wake or threading.Event()
        self.handed: deque[Written] = handed if handed is not None else deque()
        self.next_poll = 0.0
        # Whether the last claim left rows that may be relayed right now.
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
        # Handed rows by id, locked, unless a row of their key that was not handed over waits before them: one
        # statement where the poll takes two. Published ones come too, so that they hold back nothing.
        earlier_elsewhere = exists().where(
            _EARLIER.c.destination == outbox.c.destination, _EARLIER.c.key == outbox.c.key,
            _EARLIER.c.seq < outbox.c.seq, _EARLIER.c.published_at.is_(None), _EARLIER.c.expired_at.is_(None),
            _EARLIER.c.id.not_in(bindparam("handed", expanding=True)))
        self.handed_rows = (select(outbox, func.now().label("claimed_at"))
                            .where(outbox.c.id.in_(bindparam("ids", expanding=True)), ~earlier_elsewhere)
                            .with_for_update(skip_locked=True))

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
        """Publishes what it can of one batch; returns how many rows went out, raises when none could.

        Rows handed over that this round does not relay (another replica holds an earlier row of their key, the
        broker failed) are left to the poll."""
        taken = self.take_handed() if time.monotonic() < self.next_poll else []
        with unit_of_work(self.sessions) as session:
            rows = self.claim_handed(session, taken) if taken else self.claim(session)
            rows = self.admit(session, rows)
            if not rows:
                return 0
            failed = self.publish(rows, session)
            # Marked by primary key: only unpublished rows are indexed by `seq`, and the table keeps published ones.
            published = [row.id for row in rows if row.seq not in failed]
            if published:
                session.execute(_MARK_PUBLISHED, {"ids": published})
            if failed:
                errors = {row.id: failed[row.seq][:2000] for row in rows if row.seq in failed}
                session.execute(update(outbox).where(outbox.c.id.in_(list(errors)))
                                .values(attempts=outbox.c.attempts + 1, last_error=case(errors, value=outbox.c.id)))
        # Counted after the commit: a row is published once it is marked so.
        OUTBOX_PUBLISHED.labels(self.destination).inc(len(published))
        OUTBOX_PUBLISH_FAILURES.labels(self.destination).inc(len(failed))
        if failed and not published:
            raise ConnectionError(f"no {self.destination} row could be published: {next(iter(failed.values()))}")
        return len(published)

    def take_handed(self) -> list[Written]:
        """Up to a batch of the rows handed over, oldest first."""
        taken: list[Written] = []
        while self.handed and len(taken) < self.batch_size:
            taken.append(self.handed.popleft())
        return taken

    def claim(self, session: Connection) -> list:
        """The poll: the batch's rows that are next in line for their key; another replica may hold earlier ones."""
        self.next_poll = time.monotonic() + self.poll_seconds
        rows = session.execute(self.next_rows).all()
        self.more_waiting = len(rows) == self.batch_size or bool(self.handed)
        if not rows:
            return []
        mine = {row.seq for row in rows}
        waiting = session.execute(self.rows_of_keys, {"keys": list({row.key for row in rows}), "last": max(mine)}).all()
        return [row for row in rows if row.seq in next_in_line(waiting, mine)]

    def claim_handed(self, session: Connection, handed: list[Written]) -> list:
        """Of the rows handed over, those next in line for their key. One that did not come back is held by
        another replica (or waits behind a row that was not handed over): it holds back the later rows of its key."""
        ids = [row.id for row in handed]
        found = {row.id: row for row in session.execute(self.handed_rows, {"ids": ids, "handed": ids})}
        self.more_waiting = bool(self.handed)
        mine = {row.seq: row for row in found.values() if row.published_at is None and row.expired_at is None}
        waiting = [(row.key, row.seq) for row in sorted(handed, key=lambda row: row.seq)
                   if row.id not in found or row.seq in mine]
        ready = next_in_line(waiting, set(mine))
        return [mine[seq] for seq in sorted(ready)]

    def admit(self, session: Connection, rows: list) -> list:
        """Of the claimed rows, those to publish now."""
        return rows

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
                 batch_size: int = 100, wake: threading.Event | None = None,
                 handed: deque[Written] | None = None) -> None:
        super().__init__(sessions, poll_seconds, batch_size, wake, handed)
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
                with relayed(row, "kafka", **{"cloudevents.event_type": row.payload["type"]}) as traceparent:
                    message = replace(_envelope_from_row(row.payload), traceparent=traceparent).to_kafka()
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
                 poll_seconds: float, batch_size: int = 100, wake: threading.Event | None = None,
                 handed: deque[Written] | None = None) -> None:
        super().__init__(sessions, poll_seconds, batch_size, wake, handed)
        self.zeebe = zeebe
        self.loop = loop
        self.in_flight = AdaptiveLimit(initial=16, maximum=64)

    def admit(self, session: Connection, rows: list) -> list:
        """The rows still within their time to live; the others are marked expired, for the reconciler."""
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
        with relayed(row, "zeebe") as traceparent:
            # The process keeps it as a variable and hands it to each job (shared.runtime.zeebe), call activities'
            # too (they take all their parent's variables).
            variables = {**row.payload["variables"], TRACEPARENT: traceparent} if traceparent \
                else row.payload["variables"]
            await self.publish_with_back_pressure(row, variables, ttl_ms)

    async def publish_with_back_pressure(self, row, variables: dict[str, Any], ttl_ms: int) -> None:
        payload = row.payload
        deadline = asyncio.get_running_loop().time() + ZEEBE_TIMEOUT_SECONDS
        while True:
            async with self.in_flight:
                try:
                    await asyncio.wait_for(self.zeebe.publish_message(
                        name=row.topic, correlation_key=row.key, variables=variables,
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
    """Both lanes of a service's outbox, each to run in its own thread, each taking over the rows its process's
    units of work wrote when they commit."""

    def __init__(self, sessions: Engine, producer: Producer, zeebe: ZeebeClient,
                 loop: asyncio.AbstractEventLoop, poll_seconds: float, wakeups: Wakeups | None = None) -> None:
        wakeups = wakeups or Wakeups(sessions)
        kafka, zeebe_signal = lane_signal("kafka"), lane_signal("zeebe")
        self.kafka = KafkaLane(sessions, producer, poll_seconds, wake=wakeups.event(kafka),
                               handed=wakeups.handed_over(kafka))
        self.zeebe = ZeebeLane(sessions, zeebe, loop, poll_seconds, wake=wakeups.event(zeebe_signal),
                               handed=wakeups.handed_over(zeebe_signal))

    @property
    def lanes(self) -> list[OutboxLane]:
        return [self.kafka, self.zeebe]
