"""Failing jobs: retried with backoff through an outage; input that cannot work is an incident at once."""
from __future__ import annotations

import pytest

from shared.runtime.zeebe import JOB_RETRIES
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


def test_a_technical_failure_is_retried_through_an_outage_longer_than_a_short_budget_and_the_order_goes_on(
        order_api, engine_records, warehouse_database_outage):
    order_id = order_api.post("/orders", json=new_order_request()).json()["id"]
    instance = process_of(engine_records, order_id)
    # Seven failures used to be the whole budget (about 25 s); the seventh was an incident.
    failures = eventually(lambda: (f := job_failures(engine_records, instance, "ReserveStock")) and len(f) >= 7 and f,
                          timeout=90, interval=1, what="seven failed attempts at the reservation")
    assert [f["retries"] for f in failures[:7]] == list(range(JOB_RETRIES - 1, JOB_RETRIES - 8, -1))
    # The worker waits out the backoff itself; an engine backoff can leave a job never activated again.
    assert {f["retryBackoff"] for f in failures} == {0}
    assert "warehouse_service" in failures[0]["errorMessage"]  # names the cause: the database refused the role
    assert engine_records.open_incidents(instance) == []
    assert order_api.get(f"/orders/{order_id}").json()["status"] == "PLACED"

    warehouse_database_outage()  # the database is back: nobody has to do anything
    eventually(lambda: order_api.get(f"/orders/{order_id}").json()["status"] == "COMPLETED", timeout=90,
               what=f"order {order_id} to complete after the outage")
    assert engine_records.open_incidents(instance) == []


def test_a_job_with_input_that_cannot_work_becomes_an_incident_at_once_with_a_readable_message(
        order_api, engine_records, sku_the_warehouse_lacks):
    sku = sku_the_warehouse_lacks()
    order_id = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 1}])).json()["id"]
    instance = process_of(engine_records, order_id)
    [incident] = eventually(lambda: engine_records.open_incidents(instance), what="an incident")
    assert incident.message == f"warehouse.reserve-stock: unknown sku: {sku}"
    assert len(job_failures(engine_records, instance, "ReserveStock")) == 1, "no pointless retries"
    assert order_api.get(f"/orders/{order_id}").json()["status"] == "PLACED"


def test_a_request_while_the_database_refuses_gets_503_with_retry_after_and_is_answered_once_it_is_back(
        warehouse_api, fresh_sku, database_outage):
    sku = fresh_sku(3)
    end_outage = database_outage("warehouse")
    refused = eventually(lambda: (r := warehouse_api.get(f"/stock/{sku}")).status_code == 503 and r,
                         what="the warehouse to notice its database refuses it")
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["detail"].startswith("a dependency of this service is unavailable now, try again: ")
    assert "warehouse_service" in refused.json()["detail"]  # the cause, in one line
    end_outage()
    assert eventually(lambda: warehouse_api.get(f"/stock/{sku}").status_code == 200, what="the stock again")
