"""The projection: engine records from `zeebe.records`, each applied once to the monitor's tables."""
from __future__ import annotations

from collections.abc import Collection

from confluent_kafka import Message
from sqlalchemy.engine import Connection

from services.monitor import db
from services.monitor.domain import Change, InvalidRecord, changes, position_of, read_record
from shared.runtime.inbox import RecordRejected, was_put_back


def project(session: Connection, messages: list[Message]) -> list[str]:
    """Applies the records' changes in the caller's unit of work. A redelivered record (the exporter sends
    again after a restart what Kafka had not acknowledged) is recognised by its position and changes nothing;
    a record put back from the dead letters is applied though later positions were."""
    try:
        return project_records(session, [(m.partition(), m.value()) for m in messages],
                               put_back={i for i, m in enumerate(messages) if was_put_back(m)})
    except InvalidRecord as exc:
        raise RecordRejected(str(exc)) from exc


def project_records(session: Connection, records: list[tuple[int, bytes | None]],
                    put_back: Collection[int] = ()) -> list[str]:
    """Each record with the partition of the records topic it came from, in that topic's order. `put_back`: the
    indexes of records put back from the dead letters, which were never applied (the later ones were)."""
    read = [(partition, read_record(raw)) for partition, raw in records]
    found = [changes(record) for _, record in read]
    last = db.projected_positions_of(session, {(partition, position_of(record).partition)
                                               for (partition, record), made in zip(read, found, strict=True) if made})
    outcomes: list[str] = []
    applied: list[Change] = []
    for index, ((partition, record), made) in enumerate(zip(read, found, strict=True)):
        position = position_of(record)
        track = (partition, position.partition)
        if not made:
            outcomes.append("ignored")
        elif position.position <= last[track] and index not in put_back:
            outcomes.append("duplicate")
        else:
            last[track] = max(last[track], position.position)
            applied += made
            outcomes.append("handled")
    db.apply_all(session, applied)
    db.save_positions(session, last)
    return outcomes
