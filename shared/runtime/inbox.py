"""Kafka consumers with a dead-letter topic: CloudEvents through an inbox (a redelivered event has no second
effect), or other records (the engine's) through a projection that absorbs redeliveries itself.

A record that fails because a dependency is down (the database, Kafka) is retried until it is back,
however long that takes. A record that fails for any other reason is retried a few times (a race can
explain one failure) and then dead-lettered with the reason, so it never holds back the partition.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy import exc as sql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from shared.runtime.backoff import FailureBackoff, describe
from shared.runtime.db import unit_of_work
from shared.runtime.envelope import Envelope, EventPayload, InvalidEnvelope
from shared.runtime.logging import log_context
from shared.runtime.metrics import CONSUMED, CONSUMER_LAG, CONSUMER_SECONDS
from shared.runtime.outbox import UnitOfWork, UnitsOfWork
from shared.runtime.refusals import Refusals, refusal
from shared.runtime.tables import inbox
from shared.runtime.tracing import continued
from shared.runtime.validation import summarise

log = logging.getLogger(__name__)

# Applies one event in the unit of work that also records it in the inbox.
EventHandler = Callable[[UnitOfWork, Any, Envelope], None]
# Applies records that are not CloudEvents, in Kafka's order, in the given unit of work; returns each one's
# outcome for /metrics (handled, duplicate, ignored), or raises RecordRejected if one can never be applied.
RecordHandler = Callable[[Connection, list[Message]], list[str]]
# Headers a dead letter carries besides the original ones: dlt_reason, dlt_consumer, dlt_topic, ...
DLT_PREFIX = "dlt_"
# On a record put back from a dead-letter topic (tools/dead_letters.py): the dead letter's id. A consumer that
# de-duplicates by position has moved past the record meanwhile, and would otherwise skip it as seen.
PUT_BACK = DLT_PREFIX + "put_back"
# Attempts at a record that fails for a reason other than an unreachable dependency.
MAX_ATTEMPTS = 5
# How often the consumer's lag per partition is refreshed for /metrics.
STATISTICS_INTERVAL_MS = 5_000
# An unreachable or overloaded dependency: lock and statement timeouts, lost connections, a broker down.
TRANSIENT = (sql.OperationalError, sql.InterfaceError, sql.TimeoutError, sql.DisconnectionError,
             KafkaException, ConnectionError, TimeoutError)


def was_put_back(message: Message) -> bool:
    """Whether the record is a dead letter put back on its topic, which its consumer never applied."""
    return any(name == PUT_BACK for name, _ in message.headers() or [])


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT) or bool(getattr(error, "connection_invalidated", False))


class RecordRejected(ValueError):
    """A record that can never be applied; it goes to the dead-letter topic with this reason."""


class EventRejected(RecordRejected):
    """A well-formed event the domain cannot accept; it goes to the dead-letter topic with this reason."""


@dataclass(frozen=True)
class Subscription:
    """Which event class a consumer handles, and the function that handles it."""

    event: type[EventPayload]
    handler: EventHandler


def refusing(refusals: Refusals, subscriptions: list[Subscription]) -> list[Subscription]:
    """The subscriptions, an event whose handler raises one of `refusals` (its service's failures no retry can fix)
    dead-lettered at once with the reason."""

    def translated(handler: EventHandler) -> EventHandler:
        def handle(uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
            try:
                handler(uow, event, envelope)
            except Exception as error:
                reason = refusal(refusals, error)
                if reason is None:
                    raise
                raise EventRejected(reason) from error
        return handle

    return [Subscription(s.event, translated(s.handler)) for s in subscriptions]


_RECORD_SEEN = insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)  # built once: every event runs it


def record_in_inbox(session: Connection, consumer: str, envelope: Envelope) -> bool:
    """True the first time this consumer sees the event id, False on a redelivery."""
    inserted = session.execute(
        _RECORD_SEEN, {"consumer": consumer, "event_id": envelope.id, "event_type": envelope.type}).first()
    return inserted is not None


def forget_seen(session: Connection, kept_for: timedelta, batch: int = 1000) -> int:
    """Delete up to `batch` inbox rows older than `kept_for`, oldest first; returns how many went.

    Safe only while `kept_for` outlasts every way an event can come again: Kafka's retention of the
    topics and of the dead-letter topics (7 days unless configured), after which no redelivery exists.
    """
    oldest = (select(inbox.c.consumer, inbox.c.event_id).where(inbox.c.received_at < func.now() - kept_for)
              .order_by(inbox.c.received_at).limit(batch).with_for_update(skip_locked=True))
    return session.execute(delete(inbox).where(tuple_(inbox.c.consumer, inbox.c.event_id).in_(oldest))).rowcount


class RecordConsumer:
    """Consumes topics one record at a time; a record's offset is committed only after `handle` returned.

    Subclasses say in `handle` what a record means."""

    # Records taken in one go; a consumer that applies several in one transaction (`handle_batch`) raises it.
    batch_size = 1

    def __init__(self, *, name: str, bootstrap: str, group_id: str, topics: list[str],
                 sessions: Engine, dead_letter_topic: str, producer: Producer) -> None:
        self.name = name
        self.topics = topics
        self.sessions = sessions
        self.dead_letter_topic = dead_letter_topic
        self.producer = producer
        self.config = {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            # The offset of a record is stored only once its transaction committed (store_offsets below),
            # and the stored offsets are committed once a second, not one request per record: a commit
            # lost in a crash only redelivers records the inbox already holds.
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": 1000,
            "auto.offset.reset": "earliest",
            # librdkafka computes the lag from the offsets it already tracks and hands it over in poll():
            # no broker call of ours, and one small JSON document per interval.
            "statistics.interval.ms": STATISTICS_INTERVAL_MS,
            "stats_cb": CONSUMER_LAG.report,
        }

    def run(self, stop: threading.Event) -> None:
        failures = FailureBackoff(f"consumer {self.name}", log)
        while not stop.is_set():
            try:
                self.consume(stop, failures)
            except Exception:  # the client itself failed: start again with a new one
                stop.wait(failures.failed(where="the Kafka client"))

    def consume(self, stop: threading.Event, failures: FailureBackoff) -> None:
        consumer = Consumer(self.config)
        consumer.subscribe(self.topics)
        # Failed attempts at the record each partition is stuck on, for the bounded retries.
        attempts: dict[tuple[str, int, int], int] = {}
        # After a batch failed, each partition's records up to this offset are taken one at a time, so that
        # only a record that cannot be applied is retried and dead-lettered.
        singly: dict[tuple[str, int], int] = {}
        try:
            while not stop.is_set():
                messages = []
                for message in consumer.consume(1 if singly else self.batch_size, 0.5):
                    if message.error():
                        log.warning("consumer %s: %s", self.name, message.error())
                    else:
                        messages.append(message)
                if len(messages) > 1:
                    self.take_batch(consumer, messages, singly, failures, stop)
                elif messages:
                    [message] = messages
                    partition = (message.topic(), message.partition())
                    if self.take_one(consumer, message, attempts, failures, stop) and \
                            singly.get(partition, -1) <= message.offset():
                        singly.pop(partition, None)
        finally:
            consumer.close()

    def take_one(self, consumer: Consumer, message: Message, attempts: dict, failures: FailureBackoff,
                 stop: threading.Event) -> bool:
        """True once the record is done with (handled, skipped or dead-lettered); False if it comes again."""
        where = (message.topic(), message.partition(), message.offset())
        try:
            outcome = self.timed_handle(message)
        except Exception as error:
            if is_transient(error) or attempts.get(where, 0) + 1 < MAX_ATTEMPTS:
                attempts[where] = attempts.get(where, 0) + (0 if is_transient(error) else 1)
                CONSUMED.labels(message.topic(), "retried").inc()
                # Rewind and try the same record again.
                consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
                stop.wait(failures.failed(where=f"{message.topic()}@{message.offset()}"))
                return False
            self.dead_letter(message, f"failed {MAX_ATTEMPTS} times: {describe(error, limit=500)}")
            outcome = "dead_lettered"
        CONSUMED.labels(message.topic(), outcome).inc()
        attempts.pop(where, None)
        consumer.store_offsets(message=message)
        failures.succeeded()
        return True

    def take_batch(self, consumer: Consumer, messages: list[Message], singly: dict, failures: FailureBackoff,
                   stop: threading.Event) -> None:
        """Several records in one go (`handle_batch`); if that fails, each partition is rewound to its first
        record of the batch, and unless a dependency was down, the batch's records are taken one at a time."""
        started = time.perf_counter()
        try:
            outcomes = self.handle_batch(messages)
        except Exception as error:
            first: dict[tuple[str, int], Message] = {}
            for message in messages:
                first.setdefault((message.topic(), message.partition()), message)
                if not is_transient(error):
                    singly[(message.topic(), message.partition())] = message.offset()
            for message in first.values():
                consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
            stop.wait(failures.failed(where=f"a batch of {len(messages)} records"))
            return
        spent = (time.perf_counter() - started) / len(messages)
        for message, outcome in zip(messages, outcomes, strict=True):
            CONSUMER_SECONDS.labels(message.topic()).observe(spent)
            CONSUMED.labels(message.topic(), outcome).inc()
            consumer.store_offsets(message=message)
        failures.succeeded()

    def timed_handle(self, message: Message) -> str:
        started = time.perf_counter()
        try:
            return self.handle(message)
        finally:
            CONSUMER_SECONDS.labels(message.topic()).observe(time.perf_counter() - started)

    def handle(self, message: Message) -> str:
        """Returns what happened: handled, duplicate, ignored or dead_lettered."""
        raise NotImplementedError

    def handle_batch(self, messages: list[Message]) -> list[str]:
        """What happened to each record, all applied together or none of them."""
        raise NotImplementedError

    def dead_letter(self, message: Message, reason: str) -> None:
        log.warning("consumer %s dead-letters %s@%s: %s", self.name, message.topic(), message.offset(), reason)
        about = {"reason": reason, "consumer": self.name, "topic": message.topic(),
                 "partition": message.partition(), "offset": message.offset()}
        headers = list(message.headers() or []) + [(DLT_PREFIX + name, str(value).encode())
                                                   for name, value in about.items()]
        self.producer.produce(self.dead_letter_topic, key=message.key(), value=message.value(), headers=headers)
        if self.producer.flush(15):
            raise RuntimeError(f"dead-letter topic {self.dead_letter_topic} did not acknowledge the record")


class EventConsumer(RecordConsumer):
    """CloudEvents, each handled by its subscription once: the inbox absorbs redeliveries."""

    def __init__(self, *, subscriptions: list[Subscription], units: UnitsOfWork, **consumer) -> None:
        super().__init__(**consumer)
        self.by_type = {s.event.event_type: s for s in subscriptions}
        self.units = units

    def handle(self, message: Message) -> str:
        try:
            envelope = Envelope.from_kafka(message.headers(), message.key(), message.value())
        except InvalidEnvelope as exc:
            self.dead_letter(message, str(exc))
            return "dead_lettered"
        # An event about an order names it in its data (shared.contracts.base.OrderEvent), and so do its log lines.
        with log_context(order_id=envelope.data.get("order_id")):
            return self.apply(message, envelope)

    def apply(self, message: Message, envelope: Envelope) -> str:
        subscription = self.by_type.get(envelope.type)
        if subscription is None:
            return "ignored"
        try:
            event = subscription.event.model_validate(envelope.data)
        except ValidationError as exc:
            self.dead_letter(message, f"{envelope.type} payload is invalid: {summarise(exc)}")
            return "dead_lettered"
        try:
            # The handler's work, and the events it publishes, continue the trace of the event's publisher.
            with continued(f"consume {envelope.type}", envelope.traceparent, kind=SpanKind.CONSUMER,
                           attributes={"messaging.system": "kafka", "messaging.destination.name": message.topic(),
                                       "messaging.message.id": envelope.id, "fulfil.key": envelope.subject}), \
                    self.units() as uow:
                if not record_in_inbox(uow.session, self.name, envelope):
                    return "duplicate"
                subscription.handler(uow, event, envelope)
        except EventRejected as exc:
            self.dead_letter(message, f"{envelope.type} rejected: {exc}")
            return "dead_lettered"
        return "handled"


class ProjectingConsumer(RecordConsumer):
    """Records that are not CloudEvents, applied by `project` a batch at a time in one unit of work (one record
    at a time while a batch that failed is retried). There is no inbox entry: `project` must give a
    redelivered record no second effect itself (e.g. by the record's position), but apply one that
    `was_put_back` from the dead letters, which it refused before."""

    batch_size = 500

    def __init__(self, *, project: RecordHandler, **consumer) -> None:
        super().__init__(**consumer)
        self.project = project

    def handle_batch(self, messages: list[Message]) -> list[str]:
        with unit_of_work(self.sessions) as session:
            return self.project(session, messages)

    def handle(self, message: Message) -> str:
        try:
            [outcome] = self.handle_batch([message])
        except RecordRejected as exc:
            self.dead_letter(message, str(exc))
            return "dead_lettered"
        return outcome
