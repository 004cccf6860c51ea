"""CloudEvents 1.0 on Kafka in binary content mode: attributes in ce_* headers, JSON data in the value.

Binary mode keeps the record value a plain JSON document (easy for analysts and schema tools)
while any CloudEvents-aware consumer still reads the envelope from the headers. The record key
is the subject (for this suite the order id), so all events about one subject stay in one
partition, in order.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Protocol

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

CORRELATION_ID = "correlationid"
CAUSATION_ID = "causationid"
# The CloudEvents distributed-tracing extension: the W3C trace context of the span that published the event.
TRACEPARENT = "traceparent"
_FORMAT = JSONFormat()


class EventPayload(Protocol):
    """What the envelope needs of an event: its versioned CloudEvents type, its subject, its data.

    The suite's event classes (shared.contracts.base.Event) are pydantic models that fit this.
    """

    event_type: ClassVar[str]

    @property
    def subject(self) -> str: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class InvalidEnvelope(ValueError):
    """A Kafka record that is not a CloudEvents 1.0 binary-mode record with JSON data."""


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def wrap(cls, event: EventPayload, *, source: str, correlation_id: str | None = None,
             causation_id: str | None = None) -> Envelope:
        """Correlation defaults to the subject: every event about one subject shares it."""
        return cls(
            type=event.event_type,
            source=source,
            subject=event.subject,
            data=event.model_dump(mode="json"),
            correlation_id=correlation_id or event.subject,
            causation_id=causation_id,
        )

    def to_kafka(self) -> ce_kafka.KafkaMessage:
        attributes = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "specversion": "1.0",
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            CORRELATION_ID: self.correlation_id,
        }
        if self.causation_id:
            attributes[CAUSATION_ID] = self.causation_id
        if self.traceparent:
            attributes[TRACEPARENT] = self.traceparent
        return ce_kafka.to_binary(CloudEvent(attributes, self.data), _FORMAT, key_mapper=lambda e: e.get_subject())

    @classmethod
    def from_kafka(cls, headers: list[tuple[str, bytes]] | None, key: bytes | None, value: bytes | None) -> Envelope:
        try:
            message = ce_kafka.KafkaMessage(headers=dict(headers or []), key=key, value=value or b"")
            event = ce_kafka.from_binary(message, _FORMAT)
        except Exception as exc:  # the SDK raises several types for malformed input
            raise InvalidEnvelope(f"not a CloudEvents 1.0 binary-mode record: {exc}") from exc
        data = event.get_data()
        if not isinstance(data, dict):
            raise InvalidEnvelope("event data is not a JSON object")
        if not event.get_subject():
            raise InvalidEnvelope("event has no subject")
        return cls(
            id=event.get_id(),
            type=event.get_type(),
            source=event.get_source(),
            subject=event.get_subject(),
            data=data,
            correlation_id=event.get_extension(CORRELATION_ID) or event.get_subject(),
            causation_id=event.get_extension(CAUSATION_ID),
            traceparent=event.get_extension(TRACEPARENT),
            time=event.get_time() or datetime.now(timezone.utc),
        )
