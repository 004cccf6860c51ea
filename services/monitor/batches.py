"""Batch operations of the monitor: retrying every open incident that matches a filter, as one operation whose items
a background loop works through (shared.runtime.operations), each item recorded in the audit with the operator."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection, Row, select

from services.monitor import audit, db
from services.monitor.domain import IncidentState
from services.monitor.engine import Engine, EngineRefused
from shared.runtime.operations import MAX_ITEMS, ItemFailed, Operations

RETRY_INCIDENTS = "retry-incidents"
operations = Operations(db.operations, db.operation_items)
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"


class TooManyItems(Exception):
    """More items match than one operation takes."""


@dataclass(frozen=True)
class IncidentFilter:
    job_type: str | None = None
    message_contains: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    retries: int = 1

    def as_stored(self) -> dict:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items() if v is not None}


@lru_cache(maxsize=64)
def job_types(bpmn_xml: str) -> dict[str, str]:
    """A process's job elements and their job types (zeebe:taskDefinition), by element id."""
    found = {}
    for element in ElementTree.fromstring(bpmn_xml).iter():
        definition = element.find(f"*/{ZEEBE}taskDefinition")
        if element.get("id") and definition is not None and definition.get("type"):
            found[element.get("id")] = definition.get("type")
    return found


def matching_incidents(session: Connection, where: IncidentFilter) -> list[int]:
    """Open incidents that match, oldest first."""
    query = (select(db.incidents.c.key, db.incidents.c.element_id, db.definitions.c.bpmn_xml)
             .join(db.definitions, db.definitions.c.key == db.incidents.c.definition_key)
             .where(db.incidents.c.state == IncidentState.ACTIVE)
             .order_by(db.incidents.c.created_at, db.incidents.c.key))
    if where.message_contains:
        query = query.where(db.incidents.c.message.contains(where.message_contains, autoescape=True))
    if where.since:
        query = query.where(db.incidents.c.created_at >= where.since)
    if where.until:
        query = query.where(db.incidents.c.created_at < where.until)
    keys = [r.key for r in session.execute(query)
            if where.job_type is None or job_types(r.bpmn_xml).get(r.element_id) == where.job_type]
    if len(keys) > MAX_ITEMS:
        raise TooManyItems(f"{len(keys)} incidents match, one operation takes at most {MAX_ITEMS}: narrow the filter")
    return keys


def start_retry(session: Connection, where: IncidentFilter, actor: str) -> str:
    """The operation retrying every open incident that matches now; its id."""
    keys = matching_incidents(session, where)
    operation_id = operations.create(session, RETRY_INCIDENTS, where.as_stored(), actor, map(str, keys))
    audit.record(session, audit.Entry(actor, "retry incidents", f"operation {operation_id}",
                                      f"{len(keys)} incidents matching {where.as_stored()}"))
    return operation_id


def retry_item(engine: Engine):
    """The action of a retry operation's item: the incident retried, or why not. Repeatable: an incident resolved
    meanwhile (by this item before a crash, or by someone else) is 'already resolved'."""
    def retry(session: Connection, item: Row, target: str) -> str:
        key = int(target)
        incident = session.execute(select(db.incidents, db.instances.c.order_id)
                                   .outerjoin(db.instances, db.instances.c.key == db.incidents.c.instance_key)
                                   .where(db.incidents.c.key == key)).first()
        result = _retry(engine, incident, key, int(item.filter.get("retries", 1)))
        audit.record(session, audit.Entry(item.actor, "retry incident", f"incident {key}", result,
                                          incident.order_id if incident else None))
        return result
    return retry


def _retry(engine: Engine, incident: Row | None, key: int, retries: int) -> str:
    if incident is None:
        return "already resolved (no longer known to the monitor)"
    if incident.state != IncidentState.ACTIVE:
        return "already resolved"
    try:
        if incident.job_key is not None:
            engine.set_job_retries(incident.job_key, retries)
        engine.resolve_incident(key)
    except EngineRefused as exc:
        if exc.status == 404:
            return "already resolved (the engine no longer has it)"
        raise ItemFailed(f"the engine refused ({exc.status}): {exc.detail}") from exc
    return "ok: retried"


def work(session: Connection, engine: Engine) -> int:
    """A step of the monitor's operations loop."""
    return operations.work_one(session, {RETRY_INCIDENTS: retry_item(engine)})
