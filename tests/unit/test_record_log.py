"""RecordLog's answers when records arrive out of the engine's order (as they do after a Kafka outage)."""
from __future__ import annotations

import json

import pytest

from tools.stack.records import RecordLog


def variable_created(position: int, instance: int, name: str, value) -> dict:
    return {"partitionId": 1, "position": position, "key": position, "valueType": "VARIABLE", "intent": "CREATED",
            "value": {"name": name, "value": json.dumps(value), "processInstanceKey": instance,
                      "scopeKey": instance, "bpmnProcessId": "p"}}


@pytest.fixture
def record_log(monkeypatch):
    log = RecordLog("localhost:1")  # never connected: the records are handed in below
    monkeypatch.setattr(log, "_catch_up", lambda: None)
    yield log
    log.close()


def test_instances_are_listed_in_the_engines_order_not_in_the_order_they_arrived(record_log):
    # The shipment's partition was caught up first; the order's process set orderId earlier.
    record_log._take(variable_created(position=20, instance=2, name="orderId", value="o-1"))
    record_log._take(variable_created(position=30, instance=3, name="orderId", value="o-1"))
    record_log._take(variable_created(position=10, instance=1, name="orderId", value="o-1"))
    record_log._take(variable_created(position=15, instance=9, name="orderId", value="o-2"))
    assert record_log.instances_with_variable("orderId", "o-1") == [1, 2, 3]


def test_a_record_sent_twice_counts_once(record_log):
    record_log._take(variable_created(position=10, instance=1, name="orderId", value="o-1"))
    record_log._take(variable_created(position=10, instance=1, name="orderId", value="o-1"))
    assert record_log.instances_with_variable("orderId", "o-1") == [1]
    assert len(list(record_log.records("VARIABLE"))) == 1
