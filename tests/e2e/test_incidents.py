"""Failing jobs: retried with backoff, then an incident; fixing the cause and resolving it lets the order go on."""
from __future__ import annotations

import pytest

from tests.conftest import eventually, new_order_request


@pytest.fixture
def warehouse_database_outage(database_outage):
    return database_outage("warehouse")


def job_failures(engine_records, process_instance_key: int, element_id: str) -> list[dict]:
    return [r["value"] for r in engine_records.records("JOB")
            if r["intent"] == "FAILED" and r["value"]["processInstanceKey"] == process_instance_key
            and r["value"]["elementId"] == element_id]


def process_of(engine_records, order_id: str) -> int:
    [key] = eventually(lambda: engine_records.instances_with_variable("orderId", order_id),
                       what=f"the process instance of order {order_id}")
    return key


def test_a_technical_failure_is_retried_with_backoff_then_resolved_incident_lets_the_order_go_on(
        order_api, camunda_api, engine_records, warehouse_database_outage):
    order_id = order_api.post("/orders", json=new_order_request()).json()["id"]
    instance = process_of(engine_records, order_id)
    [incident] = eventually(lambda: engine_records.open_incidents(instance), timeout=60,
                            what="an incident once the retries are used up")
    assert incident.element_id == "ReserveStock" and incident.error_type == "JOB_NO_RETRIES"
    assert "warehouse_service" in incident.message  # names the cause: the database refused the role
    failures = job_failures(engine_records, instance, "ReserveStock")
    assert [f["retries"] for f in failures] == [6, 5, 4, 3, 2, 1, 0]
    assert [f["retryBackoff"] for f in failures[:-1]] == [200, 400, 800, 1600, 3200, 6400]
    assert order_api.get(f"/orders/{order_id}").json()["status"] == "PLACED"

    warehouse_database_outage()  # an operator fixes the cause...
    # ...gives the job another attempt and resolves the incident, as Operate's "retry" does.
    assert camunda_api.patch(f"/v2/jobs/{incident.job_key}",
                             json={"changeset": {"retries": 1}}).status_code == 204
    assert camunda_api.post(f"/v2/incidents/{incident.key}/resolution", json={}).status_code == 204
    eventually(lambda: order_api.get(f"/orders/{order_id}").json()["status"] == "COMPLETED", timeout=60,
               what=f"order {order_id} to complete after the incident was resolved")
    eventually(lambda: engine_records.process_instance_state(instance) == "COMPLETED", timeout=10,
               what=f"process instance {instance} to complete")
    assert engine_records.open_incidents(instance) == []


def test_a_job_with_input_that_cannot_work_becomes_an_incident_at_once_with_a_readable_message(
        order_api, engine_records):
    order_id = order_api.post("/orders", json=new_order_request(
        items=[{"sku": "NO-SUCH-SKU", "quantity": 1}])).json()["id"]
    instance = process_of(engine_records, order_id)
    [incident] = eventually(lambda: engine_records.open_incidents(instance), what="an incident")
    assert incident.message == "warehouse.reserve-stock: unknown sku: NO-SUCH-SKU"
    assert len(job_failures(engine_records, instance, "ReserveStock")) == 1, "no pointless retries"
    assert order_api.get(f"/orders/{order_id}").json()["status"] == "PLACED"
