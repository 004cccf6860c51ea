"""The monitor's projection against real Kafka and PostgreSQL: engine records of a real run, delivered twice,
land once in its tables; a record that is no engine record is dead-lettered with the reason."""
from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from confluent_kafka import Producer
from sqlalchemy import func, select

from services.monitor import db, queries
from services.monitor.consumers import project
from services.monitor.domain import (
    ElementEntered,
    IncidentState,
    InstanceStarted,
    InstanceState,
    Progress,
    TaskState,
)
from shared.runtime.db import unit_of_work
from shared.runtime.inbox import ProjectingConsumer, RecordRejected
from shared.runtime.relay import kafka_producer
from tests.conftest import eventually
from tests.integration.conftest import consuming, dead_letter_headers, migrated_database
from tests.integration.test_inbox_consumer import outcomes
from tests.unit.monitor_records import (
    COMPLETED_INSTANCE,
    COMPLETED_ORDER,
    FAILED_INSTANCE,
    FULFILMENT_DEFINITION,
    LATE_INSTANCE,
    SHIPMENT_INSTANCE,
    engine_records,
)
from tools import dead_letters


def publish(stack, topic: str, records: list[dict]) -> None:
    """As the broker's exporter does: keyed by process instance where there is one."""
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    for record in records:
        instance = record["value"].get("processInstanceKey", -1)
        producer.produce(topic, key=str(instance if instance > 0 else record["key"]), value=json.dumps(record))
    assert producer.flush(30) == 0


def count(sessions, table) -> int:
    with unit_of_work(sessions) as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_records_delivered_twice_are_projected_once_and_a_foreign_record_is_dead_lettered(stack, scratch_topic):
    records = engine_records()
    with migrated_database(stack, "monitor") as sessions:
        consumer = ProjectingConsumer(
            project=project, name="monitor-test", bootstrap=stack.kafka_bootstrap,
            group_id=f"monitor-test-{uuid.uuid4()}", topics=[scratch_topic], sessions=sessions,
            dead_letter_topic=f"{scratch_topic}.dead-letter", producer=kafka_producer(stack.kafka_bootstrap))
        publish(stack, scratch_topic, records)
        foreign = Producer({"bootstrap.servers": stack.kafka_bootstrap})
        foreign.produce(scratch_topic, key=b"x", value=b"not a record")
        assert foreign.flush(10) == 0
        publish(stack, scratch_topic, records)  # the exporter sends again after a restart
        with consuming(consumer):
            [dead] = dead_letter_headers(stack, f"{scratch_topic}.dead-letter", 1)
            variables_created = sum(r["valueType"] == "VARIABLE" and r["intent"] == "CREATED" for r in records)
            eventually(lambda: count(sessions, db.variables) == variables_created, what="every variable projected")
            flows = sum(r["intent"] == "SEQUENCE_FLOW_TAKEN" for r in records)
            eventually(lambda: count(sessions, db.taken_flows) == flows, what="every taken flow projected")
            eventually(lambda: outcomes(scratch_topic).get("duplicate") == outcomes(scratch_topic).get("handled"),
                       what="every copy recognised by its position")

        assert dead["dlt_reason"].decode().startswith("not JSON")
        with unit_of_work(sessions) as session:
            shown = {r.key: r for r in queries.instance_page(session, queries.InstanceFilter(), 50, 0)[1]}
            completed = queries.instance_detail(session, COMPLETED_INSTANCE, FULFILMENT_DEFINITION)
            failed = queries.instance_detail(session, FAILED_INSTANCE, FULFILMENT_DEFINITION)
            late = queries.instance_detail(session, LATE_INSTANCE, FULFILMENT_DEFINITION)
            definitions = queries.definition_list(session)

    assert {k: (r.state, r.order_id is not None) for k, r in shown.items()} == {
        COMPLETED_INSTANCE: (InstanceState.COMPLETED, True), SHIPMENT_INSTANCE: (InstanceState.COMPLETED, True),
        FAILED_INSTANCE: (InstanceState.TERMINATED, True), LATE_INSTANCE: (InstanceState.COMPLETED, True)}
    # The called instance's variables came before its start: its order is known all the same.
    assert shown[SHIPMENT_INSTANCE].order_id == shown[COMPLETED_INSTANCE].order_id == COMPLETED_ORDER
    visited = [e.element_id for e in completed.elements if e.state == InstanceState.COMPLETED]
    assert len(visited) == len(set(visited)), "no element counted twice though every record came twice"
    assert "CompleteOrder" in visited and [c.key for c in completed.children] == [SHIPMENT_INSTANCE]
    assert [i.state for i in failed.incidents] == [IncidentState.RESOLVED] * 2
    assert [(t.element_id, t.state) for t in late.user_tasks] == [("DecideLateStock", TaskState.COMPLETED)]
    assert late.forms == {"ReviewOrder": "order-review", "DecideLateStock": "order-decision"}
    assert [(d.bpmn_process_id, d.active_instances) for d in definitions] == [
        ("order-fulfillment", 0), ("order-shipment", 0)]


def test_a_record_put_back_from_the_dead_letters_is_projected_though_later_ones_were(stack, scratch_topic):
    records = engine_records()
    variables_of = Counter(r["key"] for r in records if r["valueType"] == "VARIABLE")
    refused = next(r for r in records if r["valueType"] == "VARIABLE" and variables_of[r["key"]] == 1)
    cannot_read_yet = threading.Event()  # until a fixed monitor is deployed
    cannot_read_yet.set()

    def project_until_fixed(session, messages):
        if cannot_read_yet.is_set() and any(json.loads(m.value())["position"] == refused["position"]
                                            for m in messages):
            raise RecordRejected("the monitor cannot read this record yet")
        return project(session, messages)

    def projected(variable_key: int) -> bool:
        with unit_of_work(sessions) as session:
            return session.execute(select(db.variables.c.key).where(db.variables.c.key == variable_key)).first()

    dead_letter_topic = f"{scratch_topic}.dead-letter"
    with migrated_database(stack, "monitor") as sessions:
        consumer = ProjectingConsumer(
            project=project_until_fixed, name="monitor-test", bootstrap=stack.kafka_bootstrap,
            group_id=f"monitor-test-{uuid.uuid4()}", topics=[scratch_topic], sessions=sessions,
            dead_letter_topic=dead_letter_topic, producer=kafka_producer(stack.kafka_bootstrap))
        publish(stack, scratch_topic, records)
        with consuming(consumer):
            eventually(lambda: count(sessions, db.variables) == len(variables_of) - 1,
                       what="every variable but the refused one projected")
            cannot_read_yet.clear()
            [letter] = dead_letters.read_topics(stack.kafka_bootstrap, {dead_letter_topic: "monitor-test"})
            dead_letters.republish(stack.kafka_bootstrap, letter)
            eventually(lambda: projected(refused["key"]), what="the record put back projected")


def test_an_active_instance_idle_too_long_is_stalled_and_its_caller_is_not(stack):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with migrated_database(stack, "monitor") as sessions:
        with unit_of_work(sessions) as session:
            db.apply_all(session, [
                *(InstanceStarted(key=key, definition_key=9, bpmn_process_id="p", version=1, parent_key=parent,
                                  at=start) for key, parent in ((1, None), (2, 1), (3, None))),
                ElementEntered(key=20, instance_key=2, definition_key=9, element_id="Wait",
                               element_type="INTERMEDIATE_CATCH_EVENT", at=start),
                Progress(instance_key=3, at=start + timedelta(hours=2))])
        with unit_of_work(sessions) as session:
            stalled = queries.stalled(session, idle_since=start + timedelta(hours=1), limit=10)
    assert [(s.key, s.waiting_at) for s in stalled] == [(2, ["Wait"])]
