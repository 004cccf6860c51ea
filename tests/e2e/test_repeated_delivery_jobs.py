"""A delivery job that runs twice has one effect.

Each test holds a lock a delivery job needs, so the job's first run waits in the database; meanwhile
the engine hands the same job out again, as it does when a job's timeout passes or its completion is
lost, and the second run queues behind the first. Then the test lets both go on, one after the
other, and counts what the Delivery service did.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from shared.contracts.delivery import (
    CancelDeliveries,
    DeliveryCancelled,
    DeliveryCompleted,
    DeliveryRedispatched,
    DeliveryRefused,
    DeliveryStarted,
    Redispatch,
    StartDelivery,
)
from tests.conftest import eventually
from tests.e2e.conftest import (
    UNDELIVERABLE,
    DeliveryLocks,
    delivery_of,
    place,
    wait_for_status,
    wait_until_awaiting_delivery,
)

pytestmark = pytest.mark.usefixtures("invariants")

DAY = 24 * 3600


def events_of(service_db, order_id: str) -> list[str]:
    """The event types the Delivery service wrote to its outbox for the order, oldest first."""
    with service_db("delivery") as db:
        return list(db.execute(text("SELECT payload->>'type' FROM outbox WHERE destination = 'kafka' AND key = :id "
                                    "ORDER BY created_at"), {"id": order_id}).scalars())


def job_of(engine_records, order_id: str, job_type: str) -> tuple[int, int] | None:
    """The key and the retries left of the order's one job of `job_type`, once the engine created it."""
    instances = set(engine_records.instances_with_variable("orderId", order_id))
    jobs = {r["key"]: r["value"]["retries"] for r in engine_records.records("JOB")
            if r["value"]["type"] == job_type and r["value"]["processInstanceKey"] in instances}
    assert len(jobs) <= 1, f"more than one {job_type} job for {order_id}: {jobs}"
    return next(iter(jobs.items()), None)


def run_twice(job_type: str, order_id: str, delivery_locks: DeliveryLocks, camunda_api, engine_records,
              take_again: Callable[[DeliveryLocks], object]) -> None:
    """Run the order's `job_type` job a second time while its first run waits for the test's lock; then let both
    through, and return once both committed."""
    eventually(lambda: delivery_locks.waiting() >= 1, what=f"{job_type} to wait for the test's lock")
    key, retries = eventually(lambda: job_of(engine_records, order_id, job_type), what=f"the {job_type} job")
    # Failing the job with its retries intact makes it activatable again at once, so the worker takes it again.
    response = camunda_api.post(f"/v2/jobs/{key}/failure",
                                json={"retries": retries, "retryBackOff": 0, "errorMessage": "handed out again"})
    assert response.status_code == 204, response.text
    eventually(lambda: delivery_locks.waiting() >= 2, what=f"the second run of {job_type} to wait behind the first")
    delivery_locks.release()
    # PostgreSQL grants a lock in the order it was asked for: once the test holds it again, both runs are done.
    later = DeliveryLocks(delivery_locks.engine)
    take_again(later)
    later.close()


def test_a_refused_delivery_command_that_runs_twice_is_refused_once(order_api, service_db, fresh_sku,
                                                                     delivery_locks, camunda_api, engine_records):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}], shipping_address=UNDELIVERABLE)
    delivery_locks.hold_order(order_id)  # taken long before the process reaches the delivery command
    run_twice(StartDelivery.job_type, order_id, delivery_locks, camunda_api, engine_records,
              lambda later: later.hold_order(order_id))
    wait_for_status(order_api, order_id, "DELIVERY_FAILED")
    assert events_of(service_db, order_id) == [DeliveryRefused.event_type]


def test_a_delivery_command_that_runs_twice_starts_one_delivery(order_api, service_db, fresh_sku, delivery_locks,
                                                                 camunda_api, engine_records):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    delivery_locks.hold_order(order_id)
    run_twice(StartDelivery.job_type, order_id, delivery_locks, camunda_api, engine_records,
              lambda later: later.hold_order(order_id))
    wait_for_status(order_api, order_id, "COMPLETED")
    assert events_of(service_db, order_id) == [DeliveryStarted.event_type, DeliveryCompleted.event_type]


def test_a_redispatch_that_runs_twice_hands_the_parcel_over_once(order_api, service_db, fresh_sku, delivery_locks,
                                                                  engine_clock, camunda_api, engine_records):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    eventually(lambda: delivery_of(service_db, order_id), interval=0.05, what=f"the delivery of {order_id}")
    first = delivery_locks.hold_delivery(order_id)  # the courier cannot finish it while the test holds it
    assert first.status == "DISPATCHED", "the courier finished before the test could hold the delivery"
    wait_until_awaiting_delivery(engine_records, order_id)

    engine_clock(2 * DAY + 60)  # past the reminder: the process asks for a redispatch
    run_twice(Redispatch.job_type, order_id, delivery_locks, camunda_api, engine_records,
              lambda later: later.hold_delivery(order_id))
    assert delivery_of(service_db, order_id).courier != first.courier, "handed over, and not back again"
    wait_for_status(order_api, order_id, "COMPLETED")
    assert events_of(service_db, order_id) == [DeliveryStarted.event_type, DeliveryRedispatched.event_type,
                                               DeliveryCompleted.event_type]


def test_a_cancellation_of_deliveries_that_runs_twice_cancels_once(order_api, service_db, fresh_sku,
                                                                    delivery_locks, camunda_api, engine_records):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    eventually(lambda: delivery_of(service_db, order_id), interval=0.05, what=f"the delivery of {order_id}")
    assert delivery_locks.hold_delivery(order_id).status == "DISPATCHED", "the courier finished first"
    delivery_locks.hold_order(order_id)

    assert order_api.post(f"/orders/{order_id}/cancel").status_code == 202
    run_twice(CancelDeliveries.job_type, order_id, delivery_locks, camunda_api, engine_records,
              lambda later: later.hold_order(order_id))
    wait_for_status(order_api, order_id, "CANCELLED")
    assert delivery_of(service_db, order_id).status == "CANCELLED"
    assert events_of(service_db, order_id) == [DeliveryStarted.event_type, DeliveryCancelled.event_type]
