"""The projection: engine records from `zeebe.records`, each applied once to the monitor's tables."""
from __future__ import annotations

from confluent_kafka import Message
from sqlalchemy.engine import Connection

from runtime.inbox import RecordRejected
from services.monitor import db
from services.monitor.domain import Change, InvalidRecord, changes, position_of, read_record


def project(session: Connection, messages: list[Message]) -> list[str]:
    """Applies the records' changes in the caller's unit of work. A redelivered record (the exporter sends
    again after a restart what Kafka had not acknowledged) is recognised by its position and changes nothing."""
    try:
        return project_records(session, [(m.partition(), m.value()) for m in messages])
    except InvalidRecord as exc:
        raise RecordRejected(str(exc)) from exc


def project_records(session: Connection, records: list[tuple[int, bytes | None]]) -> list[str]:
    """Each record with the partition of the records topic it came from, in that topic's order."""
    read = [(partition, read_record(raw)) for partition, raw in records]
    found = [changes(record) for _, record in read]
    last = db.projected_positions_of(session, {(partition, position_of(record).partition)
                                               for (partition, record), made in zip(read, found, strict=True) if made})
    outcomes: list[str] = []
    applied: list[Change] = []
    for (partition, record), made in zip(read, found, strict=True):
        position = position_of(record)
        if not made:
            outcomes.append("ignored")
        elif position.position <= last[(partition, position.partition)]:
            outcomes.append("duplicate")
        else:
            last[(partition, position.partition)] = position.position
            applied += made
            outcomes.append("handled")
    db.apply_all(session, applied)
    db.save_positions(session, last)
    return outcomes
