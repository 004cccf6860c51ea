"""Jobs that stopped recurring, started again: the engine-level half of reconciliation.

A job element whose instance the engine has written nothing about for `stuck_after` (no activation,
failure, time-out or retry of its job) and that has no incident will not move by itself: the worker
that held it is gone with a long timeout, or the engine never made a failed job activatable again
(camunda/camunda#16884). Terminating the element instance and activating the element again in the
same scope creates a new job; job handlers are idempotent, so a step that had in fact run returns its
earlier result. Boundary timers on that element start again from now. An element with an incident
is left alone: that is for a person (the page's "retry").
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from services.monitor import queries
from services.monitor.db import incidents, instances
from services.monitor.domain import IncidentState
from services.monitor.engine import Engine, EngineRefused

log = logging.getLogger(__name__)

RESTARTED = Counter("fulfil_monitor_restarted_jobs", "Job elements started again because their job stopped "
                    "recurring, by element and outcome (restarted, refused by the engine)", ["element", "outcome"])


def incident_metrics(session: Connection) -> list[Metric]:
    """Open incidents per BPMN element, read when Prometheus scrapes: each waits for a person, so any is an alert."""
    family = GaugeMetricFamily("fulfil_monitor_open_incidents", "Incidents open in the engine, per BPMN element.",
                               labels=["element"])
    counted = session.execute(select(incidents.c.element_id, func.count()).where(
        incidents.c.state == IncidentState.ACTIVE).group_by(incidents.c.element_id)).all()
    for element_id, count in sorted(counted):
        family.add_metric([element_id], count)
    return [family]


def restart_stuck_jobs(session: Connection, engine: Engine, stuck_after: timedelta, limit: int = 20) -> int:
    """One round; returns how many it acted on. Raises EngineUnreachable to be tried again later."""
    now = datetime.now(timezone.utc)
    stuck = queries.stuck_jobs(session, now - stuck_after, limit)
    for element in stuck:
        idle = int((now - element.last_record_at).total_seconds())
        try:
            engine.restart_element(element.instance_key, element.key, element.element_id, element.flow_scope_key)
        except EngineRefused as refused:
            log.warning("instance %s (order %s) idle %d s at %s: the engine refused to start it again: %s",
                        element.instance_key, element.order_id, idle, element.element_id, refused.detail)
            RESTARTED.labels(element.element_id, "refused").inc()
        else:
            log.warning("instance %s (order %s) idle %d s at %s with no incident: its job stopped recurring; "
                        "started the element again", element.instance_key, element.order_id, idle,
                        element.element_id)
            RESTARTED.labels(element.element_id, "restarted").inc()
        # Not again before it has been idle that long once more (the engine's records reset it anyway).
        session.execute(update(instances).where(instances.c.key == element.instance_key)
                        .values(last_record_at=now))
    return len(stuck)
