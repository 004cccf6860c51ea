"""A delivery job that runs twice has one effect.

Each test holds a lock a delivery job needs, so its first run waits in the database until the job's
timeout passes and Zeebe hands the same job out again; then it lets both runs go on, one after the
other, and counts what the Delivery service did.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from contracts.delivery import (
    DeliveryCancelled,
    DeliveryCompleted,
    DeliveryRedispatched,
    DeliveryRefused,
    DeliveryStarted,
)
from tests.conftest import eventually
from tests.e2e.conftest import UNDELIVERABLE, DeliveryLocks, delivery_of, place, wait_for_status

pytestmark = pytest.mark.usefixtures("invariants")

DAY = 24 * 3600


def events_of(service_db, order_id: str) -> list[str]:
    """The event types the Delivery service wrote to its outbox for the order, oldest first."""
    with service_db("delivery") as db:
        return list(db.execute(text("SELECT payload->>'type' FROM outbox WHERE destination = 'kafka' AND key = :id "
                                    "ORDER BY created_at"), {"id": order_id}).scalars())


def run_twice(delivery_locks: DeliveryLocks, take_again: Callable[[DeliveryLocks], object]) -> None:
    """Wait until the job's second run queues behind the first, let both through, and wait until both committed."""
    eventually(lambda: delivery_locks.waiting() >= 2, timeout=90,
               what="the job's timeout to pass and the job to run a second time while the first run waits")
    delivery_locks.release()
    # PostgreSQL grants a lock in the order it was asked for: once the test holds it again, both runs are done.
    later = DeliveryLocks(delivery_locks.engine)
    take_again(later)
    later.close()


def test_a_refused_delivery_command_that_runs_twice_is_refused_once(order_api, service_db, fresh_sku,
                                                                     delivery_locks):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}], shipping_address=UNDELIVERABLE)
    delivery_locks.hold_order(order_id)  # taken long before the process reaches the delivery command
    run_twice(delivery_locks, lambda later: later.hold_order(order_id))
    wait_for_status(order_api, order_id, "DELIVERY_FAILED")
    assert events_of(service_db, order_id) == [DeliveryRefused.event_type]


def test_a_delivery_command_that_runs_twice_starts_one_delivery(order_api, service_db, fresh_sku, delivery_locks):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    delivery_locks.hold_order(order_id)
    run_twice(delivery_locks, lambda later: later.hold_order(order_id))
    wait_for_status(order_api, order_id, "COMPLETED")
    assert events_of(service_db, order_id) == [DeliveryStarted.event_type, DeliveryCompleted.event_type]


def test_a_redispatch_that_runs_twice_hands_the_parcel_over_once(order_api, service_db, fresh_sku, delivery_locks,
                                                                  engine_clock):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    eventually(lambda: delivery_of(service_db, order_id), interval=0.05, what=f"the delivery of {order_id}")
    first = delivery_locks.hold_delivery(order_id)  # the courier cannot finish it while the test holds it
    assert first.status == "DISPATCHED", "the courier finished before the test could hold the delivery"

    engine_clock(2 * DAY + 60)  # past the reminder: the process asks for a redispatch
    run_twice(delivery_locks, lambda later: later.hold_delivery(order_id))
    assert delivery_of(service_db, order_id).courier != first.courier, "handed over, and not back again"
    wait_for_status(order_api, order_id, "COMPLETED")
    assert events_of(service_db, order_id) == [DeliveryStarted.event_type, DeliveryRedispatched.event_type,
                                               DeliveryCompleted.event_type]


def test_a_cancellation_of_deliveries_that_runs_twice_cancels_once(order_api, service_db, fresh_sku,
                                                                    delivery_locks):
    order_id = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
    eventually(lambda: delivery_of(service_db, order_id), interval=0.05, what=f"the delivery of {order_id}")
    assert delivery_locks.hold_delivery(order_id).status == "DISPATCHED", "the courier finished first"
    delivery_locks.hold_order(order_id)

    assert order_api.post(f"/orders/{order_id}/cancel").status_code == 202
    run_twice(delivery_locks, lambda later: later.hold_order(order_id))
    wait_for_status(order_api, order_id, "CANCELLED")
    assert delivery_of(service_db, order_id).status == "CANCELLED"
    assert events_of(service_db, order_id) == [DeliveryStarted.event_type, DeliveryCancelled.event_type]
