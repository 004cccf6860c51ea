"""The monitor's batch operations and audit in this process: incidents retried as one operation by the loop's steps
(the engine faked), each item's result, a restart halfway, who did it, and a token that names nobody refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from services.monitor import api, batches, db
from services.monitor.domain import IncidentState
from services.monitor.engine import EngineRefused, EngineUnreachable
from services.monitor.settings import MonitorSettings
from shared.contracts.roles import OPERATOR
from shared.runtime.service import Service
from tests.integration.in_process.conftest import bearer, in_process, settings_of

BPMN = (Path(__file__).parents[3] / "bpmn" / "order-fulfillment.bpmn").read_text()
AN_OPERATOR, NOBODY = bearer("olivia", OPERATOR), bearer(None, OPERATOR)
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeEngine:
    """The engine's REST API as the batch sees it: what it was asked, and a failure to answer when told."""

    def __init__(self) -> None:
        self.resolved: list[int] = []
        self.retries: list[int] = []
        self.unreachable = False
        self.refuse: dict[int, EngineRefused] = {}

    def set_job_retries(self, job_key: int, retries: int) -> None:
        if self.unreachable:
            raise EngineUnreachable("the engine does not answer")
        self.retries.append(job_key)

    def resolve_incident(self, key: int) -> None:
        if key in self.refuse:
            raise self.refuse[key]
        self.resolved.append(key)


@pytest.fixture
def monitor(service_database, identity_provider):
    with service_database("monitor") as (sessions, url):
        with sessions.begin() as session:
            session.execute(insert(db.definitions).values(
                key=1, bpmn_process_id="order-fulfillment", version=1, resource_name="order-fulfillment.bpmn",
                bpmn_xml=BPMN, forms={}, deployed_at=T0))
            for n, element in enumerate(["ReserveStock", "ReserveStock", "ReserveStock", "CompleteOrder"], 1):
                session.execute(insert(db.instances).values(
                    key=100 + n, definition_key=1, bpmn_process_id="order-fulfillment", version=1, state="ACTIVE",
                    order_id=f"order-{n}", started_at=T0, last_record_at=T0))
                session.execute(insert(db.incidents).values(
                    key=200 + n, instance_key=100 + n, definition_key=1, element_id=element,
                    element_instance_key=300 + n, error_type="JOB_NO_RETRIES", message=f"stock database down {n}",
                    job_key=400 + n, state=IncidentState.ACTIVE, created_at=T0 + timedelta(minutes=n)))
        with in_process(Service(settings=settings_of(MonitorSettings, url, identity_provider), api=api.router)) as c:
            yield c, sessions


def work_all(sessions, engine) -> None:
    while True:
        with sessions.begin() as session:
            if not batches.work(session, engine):
                return


def test_incidents_matching_a_job_type_are_retried_in_one_operation_with_a_result_per_item(monitor):
    client, sessions = monitor
    answer = client.post("/operations/incident-retries", json={"job_type": "warehouse.reserve-stock"},
                         headers=AN_OPERATOR)
    assert answer.status_code == 202, answer.text
    operation = answer.json()
    assert (operation["total"], operation["pending"], operation["state"], operation["actor"]) == (
        3, 3, "RUNNING", "olivia")
    with sessions.begin() as session:  # resolved by someone else before the batch reached it
        session.execute(update(db.incidents).where(db.incidents.c.key == 202).values(state=IncidentState.RESOLVED))
    engine = FakeEngine()
    work_all(sessions, engine)
    done = client.get(f"/operations/{operation['id']}", headers=AN_OPERATOR).json()
    assert (done["state"], done["ok"], done["failed"], done["pending"]) == ("DONE", 3, 0, 0)
    assert [(i["target"], i["state"], i["result"]) for i in done["items"]] == [
        ("201", "OK", "ok: retried"), ("202", "OK", "already resolved"), ("203", "OK", "ok: retried")]
    assert engine.resolved == [201, 203] and engine.retries == [401, 403]
    audit = client.get("/audit", params={"actor": "olivia", "order_id": "order-1"}, headers=AN_OPERATOR).json()
    assert [(e["action"], e["target"], e["result"]) for e in audit["items"]] == [
        ("retry incident", "incident 201", "ok: retried")]


def test_a_batch_stopped_halfway_goes_on_with_the_items_left_and_reports_a_refused_one(monitor):
    client, sessions = monitor
    operation = client.post("/operations/incident-retries", json={"message_contains": "stock database"},
                            headers=AN_OPERATOR).json()
    assert operation["total"] == 4
    engine = FakeEngine()
    engine.refuse[204] = EngineRefused(409, "the job is not failed")
    with sessions.begin() as session:
        assert batches.work(session, engine) == 1
    engine.unreachable = True  # the round fails; its item stays pending, as after a crash before the commit
    with pytest.raises(EngineUnreachable):
        with sessions.begin() as session:
            batches.work(session, engine)
    engine.unreachable = False
    work_all(sessions, engine)
    done = client.get(f"/operations/{operation['id']}", headers=AN_OPERATOR).json()
    assert [(i["target"], i["state"]) for i in done["items"]] == [
        ("201", "OK"), ("202", "OK"), ("203", "OK"), ("204", "ERROR")]
    assert done["items"][3]["result"] == "the engine refused (409): the job is not failed"
    assert engine.resolved == [201, 202, 203]
    listed = client.get("/operations", headers=AN_OPERATOR).json()
    assert listed["items"][0]["id"] == operation["id"] and listed["items"][0]["failed"] == 1


def test_a_token_without_a_subject_may_read_but_not_act(monitor):
    client, _ = monitor
    assert client.get("/incidents", headers=NOBODY).status_code == 200
    for path, body in [("/operations/incident-retries", {}), ("/incidents/201/retry", None),
                       ("/instances/101/cancellation", None)]:
        refused = client.post(path, json=body, headers=NOBODY)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert "names nobody" in refused.json()["detail"]


def test_a_refused_action_is_in_the_audit_with_its_actor_and_reason(monitor):
    client, _ = monitor
    refused = client.post("/instances/101/cancellation", headers=AN_OPERATOR)
    assert refused.status_code == 409
    [entry] = client.get("/audit", params={"target": "instance 101"}, headers=AN_OPERATOR).json()["items"]
    assert (entry["actor"], entry["action"], entry["order_id"]) == ("olivia", "cancel instance", "order-1")
    assert entry["result"].startswith("refused (409): process instance 101 runs order order-1")
