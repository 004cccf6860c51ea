"""The engine's migration records against the monitor's real PostgreSQL schema: an instance follows its new
definition and keeps each move (from which version to which, when), the elements, incidents and user tasks stand at
their target, and the batch migration finds the called process deployed with the target version."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from services.monitor import db, queries
from services.monitor.domain import (
    ElementEntered,
    ElementMigrated,
    IncidentMigrated,
    IncidentOpened,
    InstanceMigrated,
    InstanceStarted,
)
from shared.runtime.db import unit_of_work
from tests.integration.conftest import migrated_database

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def definition(key: int, process: str, version: int, tag: str, deployment: int) -> dict:
    return {"key": key, "bpmn_process_id": process, "version": version, "name": None, "resource_name": "x.bpmn",
            "bpmn_xml": "<definitions/>", "forms": {}, "deployed_at": AT, "version_tag": tag,
            "deployment_key": deployment}


def test_a_migrated_instance_follows_its_new_definition_and_keeps_each_move_once(stack):
    with migrated_database(stack, "monitor") as sessions:
        with unit_of_work(sessions) as session:
            db.apply_all(session, [
                InstanceStarted(key=1, definition_key=10, bpmn_process_id="p", version=1, parent_key=None, at=AT),
                ElementEntered(key=5, instance_key=1, definition_key=10, element_id="Old", element_type="SERVICE_TASK",
                               at=AT),
                IncidentOpened(key=6, instance_key=1, definition_key=10, element_id="Old", element_instance_key=5,
                               error_type="JOB_NO_RETRIES", message="m", job_key=None, at=AT)])
        moves = [InstanceMigrated(key=1, definition_key=20, version=2, at=AT + timedelta(hours=1)),
                 ElementMigrated(key=5, definition_key=20, element_id="New"),
                 IncidentMigrated(key=6, definition_key=20, element_id="New")]
        with unit_of_work(sessions) as session:
            db.apply_all(session, moves)
        with unit_of_work(sessions) as session:  # delivered again: the history does not grow
            db.apply_all(session, moves[:1])
            db.apply_all(session, [InstanceMigrated(key=1, definition_key=30, version=3, at=AT + timedelta(hours=2))])
        with unit_of_work(sessions) as session:
            instance = queries.instance(session, 1)
            history = session.execute(select(db.instance_migrations).order_by(db.instance_migrations.c.migrated_at)
                                      ).all()
            element = session.execute(select(db.element_instances).where(db.element_instances.c.key == 5)).one()
            incident = session.execute(select(db.incidents).where(db.incidents.c.key == 6)).one()
    assert (instance.definition_key, instance.version) == (30, 3)
    assert [(h.from_version, h.to_version, h.from_definition_key, h.to_definition_key) for h in history] == [
        (1, 2, 10, 20), (2, 3, 20, 30)]
    assert (element.definition_key, element.element_id) == (20, "New")
    assert (incident.definition_key, incident.element_id) == (20, "New")


def test_the_called_process_of_a_target_is_the_one_deployed_with_it(stack):
    with migrated_database(stack, "monitor") as sessions:
        with unit_of_work(sessions) as session:
            session.execute(db.definitions.insert(), [
                definition(10, "order-fulfillment", 1, "1.0", 100), definition(11, "order-shipment", 1, "1.0", 100),
                definition(20, "order-fulfillment", 2, "1.1", 200), definition(21, "order-shipment", 2, "1.1", 200),
                definition(31, "order-shipment", 3, "1.2", 300)])
        with unit_of_work(sessions) as session:
            target = queries.definition_of_version(session, "order-fulfillment", 2)
            called = queries.definition_in_deployment(session, "order-shipment", target.deployment_key)
    assert (called.key, called.version_tag) == (21, "1.1"), "not the newest shipment: the one of its deployment"
