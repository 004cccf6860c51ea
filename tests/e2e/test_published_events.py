"""Every event the services published during this test run, read with the official CloudEvents SDK
and validated against the catalog's JSON Schema. Runs after the other end-to-end tests."""
from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from confluent_kafka import Consumer, TopicPartition
from jsonschema import Draft202012Validator

from shared.contracts.registry import ENGINE_RECORD_VALUE_TYPES, ENGINE_RECORDS_TOPIC, PUBLISHERS
from tests.conftest import INJECTED_BY_TEST, new_order_request
from tools.catalog import CATALOG, ENGINE_RECORD_SCHEMA, schema_file


def all_records(stack, topic: str) -> list:
    """Every record now on `topic`, from the first offset to the end."""
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"catalog-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions}
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in ends.items()])
        remaining = {p for p, (low, high) in ends.items() if high > low}
        records = []
        while remaining:
            for message in consumer.consume(num_messages=500, timeout=5):
                assert not message.error(), message.error()
                records.append(message)
                if message.offset() + 1 >= ends[message.partition()][1]:
                    remaining.discard(message.partition())
        return records
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def published(stack) -> dict[str, list]:
    return {topic: all_records(stack, topic) for topic in (p.events_topic for p in PUBLISHERS)}


def validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_file(event_type).read_text()))


def test_every_published_event_is_a_standard_cloudevent_that_matches_its_schema(published):
    checked = Counter()
    problems = []
    for topic, records in published.items():
        for record in records:
            if INJECTED_BY_TEST in dict(record.headers() or []):
                continue
            # The SDK's own Kafka binding, not the project's envelope code, reads the record.
            event = from_binary(KafkaMessage(headers=dict(record.headers() or []), key=record.key(),
                                             value=record.value()), JSONFormat())
            event_type = event.get_type()
            where = f"{topic}@{record.partition()}:{record.offset()} {event_type}"
            if event_type not in CATALOG:
                problems.append(f"{where}: not in the catalog")
                continue
            if CATALOG[event_type][0] != topic:
                problems.append(f"{where}: belongs on {CATALOG[event_type][0]}")
            if event.get_specversion() != "1.0" or event.get_subject() != record.key().decode():
                problems.append(f"{where}: specversion or subject wrong")
            if not event.get_extension("correlationid"):
                problems.append(f"{where}: no correlationid")
            problems += [f"{where}: {error.message}" for error in validator(event_type).iter_errors(event.get_data())]
            checked[event_type] += 1
    assert problems == []
    # The suite exercises nearly every event type; a catalog entry nothing publishes stands out here.
    assert len(checked) >= len(CATALOG) - 1, f"only saw {sorted(checked)}"


def test_a_schema_that_no_longer_fits_the_events_fails_the_check(published):
    """Guards the guard: tightening a schema in a breaking way makes real events invalid."""
    record = next(r for r in published["warehouse.events"]
                  if dict(r.headers())["ce_type"] == b"fulfilment.warehouse.stock-reserved.v1")
    schema = json.loads(schema_file("fulfilment.warehouse.stock-reserved.v1").read_text())
    schema["required"].append("promised_date")
    assert list(Draft202012Validator(schema).iter_errors(json.loads(record.value())))


def test_the_engine_records_match_their_schema_and_are_keyed_by_process_instance(stack):
    records = all_records(stack, ENGINE_RECORDS_TOPIC)
    assert records, "the exporter published nothing"
    schema = Draft202012Validator(json.loads(ENGINE_RECORD_SCHEMA.read_text()))
    kinds = Counter()
    for message in records:
        record = json.loads(message.value())
        errors = [e.message for e in schema.iter_errors(record)]
        assert not errors, f"{record['valueType']} {record['intent']} at {record['position']}: {errors}"
        instance = record["value"].get("processInstanceKey", -1)
        assert message.key().decode() == str(instance if instance > 0 else record["key"])
        kinds[record["valueType"]] += 1
    assert set(kinds) == set(ENGINE_RECORD_VALUE_TYPES), f"kinds seen: {kinds}"


def test_no_published_event_and_no_engine_record_carries_a_customers_address(stack, published):
    # Every test order is shipped to this address; process variables, jobs, messages and events carry ids only.
    address = new_order_request()["shipping_address"]
    marks = [address["name"].encode(), address["street"].encode(), b'"shipping_address"', b'"street"']
    everything = {**published, ENGINE_RECORDS_TOPIC: all_records(stack, ENGINE_RECORDS_TOPIC)}
    assert sum(map(len, everything.values())) > 100
    carrying = [(topic, record.offset()) for topic, records in everything.items() for record in records
                if any(mark in record.value() for mark in marks)]
    assert carrying == []
