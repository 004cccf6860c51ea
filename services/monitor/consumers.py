"""The projection: each engine record from `zeebe.records`, applied once to the monitor's tables."""
from __future__ import annotations

from confluent_kafka import Message
from sqlalchemy.orm import Session

from runtime.inbox import RecordRejected
from services.monitor import db
from services.monitor.domain import InvalidRecord, changes, position_of, read_record


def project(session: Session, message: Message) -> str:
    """Applies the record's changes in the caller's unit of work; a redelivered record (the exporter sends
    again after a restart what it had not acknowledged) is recognised by its position and changes nothing."""
    try:
        record = read_record(message.value())
        found = changes(record)
    except InvalidRecord as exc:
        raise RecordRejected(str(exc)) from exc
    if not found:
        return "ignored"
    if not db.claim(session, message.partition(), position_of(record)):
        return "duplicate"
    for change in found:
        db.apply(change, session)
    return "handled"
