"""Transactional outbox: rows written with the state change, relayed to Kafka and Zeebe afterwards.

A crash between commit and publish only delays a message; a crash between publish and marking it
sent publishes it again, which consumers absorb (inbox) and Zeebe rejects (message id).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from confluent_kafka import KafkaException, Producer
from pyzeebe import ZeebeClient
from pyzeebe.errors import MessageAlreadyExistsError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from runtime.backoff import FailureBackoff
from runtime.db import unit_of_work
from runtime.envelope import Envelope, EventPayload
from runtime.tables import outbox

log = logging.getLogger(__name__)

ZEEBE_TIMEOUT_SECONDS = 15


class HeldBack(Exception):
    """A Zeebe message not sent this round because an earlier one with the same key failed."""


class EventPublisher:
    """Adds a service's domain events to its outbox, wrapped in the CloudEvents envelope."""

    def __init__(self, source: str, topic: str) -> None:
        self.source = source
        self.topic = topic

    def publish(self, session: Session, event: EventPayload, *, causation_id: str | None = None) -> Envelope:
        """`causation_id`: the id of the consumed event this one follows from, so a chain can be traced back."""
        envelope = Envelope.wrap(event, source=self.source, causation_id=causation_id)
        add_kafka_event(session, self.topic, envelope)
        return envelope


def add_kafka_event(session: Session, topic: str, envelope: Envelope) -> None:
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
    session.execute(insert(outbox).values(
        id=uuid.uuid4(), destination="kafka", topic=topic, key=envelope.subject, payload=payload,
    ))


def add_zeebe_message(session: Session, *, name: str, correlation_key: str, message_id: str,
                      variables: dict[str, Any], ttl_ms: int = 3_600_000) -> None:
    """Zeebe keeps the message `ttl_ms` and refuses a second one with the same id meanwhile."""
    session.execute(insert(outbox).values(
        id=uuid.uuid4(), destination="zeebe", topic=name, key=correlation_key,
        payload={"message_id": message_id, "variables": variables, "ttl_ms": ttl_ms},
    ))


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


class OutboxRelay:
    """Publishes unpublished outbox rows in creation order; runs in its own thread."""

    def __init__(self, sessions: sessionmaker[Session], producer: Producer, zeebe: ZeebeClient,
                 loop: asyncio.AbstractEventLoop, poll_seconds: float, batch_size: int = 100) -> None:
        self.sessions = sessions
        self.producer = producer
        self.zeebe = zeebe
        self.loop = loop
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._delivery_error = None

    def run(self, stop: threading.Event) -> None:
        failures = FailureBackoff("outbox relay", log)
        while not stop.is_set():
            try:
                relayed = self.relay_batch()
            except Exception:  # keep relaying after a transient failure; the rows stay unpublished
                stop.wait(failures.failed())
                continue
            failures.succeeded()
            if relayed == 0:
                stop.wait(self.poll_seconds)
        self.producer.flush(10)

    def relay_batch(self) -> int:
        with unit_of_work(self.sessions) as session:
            rows = session.execute(
                select(outbox)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.created_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            zeebe_outcomes = self._publish_zeebe_messages([row for row in rows if row.destination == "zeebe"])
            published, failed = [], {}
            for row in rows:
                try:
                    if row.destination == "kafka":
                        self._produce(row)
                    elif row.id not in zeebe_outcomes:
                        raise HeldBack(f"an earlier message for {row.key} failed")
                    elif zeebe_outcomes[row.id] is not None:
                        raise zeebe_outcomes[row.id]
                    published.append(row.id)
                except Exception as exc:  # recorded on the row and retried next round
                    failed[row.id] = f"{type(exc).__name__}: {exc}"
                    break  # keep per-order ordering: do not skip past a failed row
            if any(row.destination == "kafka" for row in rows):
                self._confirm_kafka_delivery()
            now = datetime.now(timezone.utc)
            if published:
                session.execute(update(outbox).where(outbox.c.id.in_(published)).values(published_at=now))
            for row_id, error in failed.items():
                session.execute(update(outbox).where(outbox.c.id == row_id)
                                .values(attempts=outbox.c.attempts + 1, last_error=error[:2000]))
            return len(published)

    def _publish_zeebe_messages(self, rows) -> dict:
        """Publishes concurrently across correlation keys and in order within one; row id -> error or None.

        Under load the broker takes a few hundred milliseconds to answer each publish, so one at a
        time would hold back every order's start. A key's later rows wait for the next round after
        a failure.
        """
        if not rows:
            return {}
        by_key: dict[str, list] = {}
        for row in rows:
            by_key.setdefault(row.key, []).append(row)
        outcomes: dict = {}

        async def publish_in_order(rows_of_key) -> None:
            for row in rows_of_key:
                try:
                    await asyncio.wait_for(self._publish_zeebe_message(row), ZEEBE_TIMEOUT_SECONDS)
                    outcomes[row.id] = None
                except Exception as exc:
                    outcomes[row.id] = exc
                    return

        async def publish_all() -> None:
            await asyncio.gather(*(publish_in_order(rows_of_key) for rows_of_key in by_key.values()))

        asyncio.run_coroutine_threadsafe(publish_all(), self.loop).result(timeout=ZEEBE_TIMEOUT_SECONDS * len(rows))
        return outcomes

    def _produce(self, row) -> None:
        message = _envelope_from_row(row.payload).to_kafka()
        self.producer.produce(
            row.topic, key=message.key, value=message.value, headers=list(message.headers.items()),
            on_delivery=self._on_delivery,
        )

    def _on_delivery(self, error, _message) -> None:
        if error is not None:
            self._delivery_error = error

    def _confirm_kafka_delivery(self) -> None:
        self._delivery_error = None
        remaining = self.producer.flush(15)
        if remaining or self._delivery_error is not None:
            # Rolling back keeps the rows unpublished; the idempotent producer de-duplicates resends.
            raise KafkaException(self._delivery_error or f"{remaining} records not acknowledged")

    async def _publish_zeebe_message(self, row) -> None:
        payload = row.payload
        try:
            await self.zeebe.publish_message(
                name=row.topic,
                correlation_key=row.key,
                variables=payload["variables"],
                time_to_live_in_milliseconds=payload["ttl_ms"],
                message_id=payload["message_id"],
            )
        except MessageAlreadyExistsError:
            log.info("message %s %s was already published", row.topic, payload["message_id"])
