"""The Delivery service's job commands against a real PostgreSQL, run twice: the second run has no effect of its own.

Zeebe hands a job out again when its timeout passes, when a worker crashed after its commit, or
when the completion was lost; each command must give the same answer and write nothing twice.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.delivery import commands, db
from services.delivery.domain import UNDELIVERABLE_POSTAL_CODE
from shared.contracts.delivery import DeliveryCancelled, DeliveryRedispatched, DeliveryRefused, DeliveryStarted
from shared.contracts.registry import DELIVERY
from shared.runtime.db import unit_of_work
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.tables import outbox

ADDRESS = {"postal_code": "N1 9GU"}
ITEMS = [{"sku": "KB-101", "quantity": 1}]


@pytest.fixture
def sessions(delivery_sessions):
    return delivery_sessions


def run(sessions, command, *args, **kwargs):
    with UnitsOfWork(sessions, DELIVERY)() as uow:
        return command(uow, *args, **kwargs)


def events(sessions, order_id: str) -> list[str]:
    with unit_of_work(sessions) as session:
        return [payload["type"] for payload in session.execute(
            select(outbox.c.payload).where(outbox.c.destination == "kafka", outbox.c.key == order_id)
            .order_by(outbox.c.created_at)).scalars()]


def start(sessions, order_id: str, shipment_id: str, address: dict = ADDRESS, delay_seconds: float = 60):
    return run(sessions, commands.start_delivery, order_id=order_id, shipment_id=shipment_id, items=ITEMS,
               delay_seconds=delay_seconds, address=address)


def delivery(sessions, order_id: str, shipment_id: str):
    with unit_of_work(sessions) as session:
        return db.find(session, order_id, shipment_id)


def ids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


def test_a_repeated_delivery_command_answers_with_the_same_delivery_and_starts_it_once(sessions):
    order_id, shipment_id = ids()
    first, second = start(sessions, order_id, shipment_id), start(sessions, order_id, shipment_id)
    assert first.delivery_id is not None and second == first
    assert events(sessions, order_id) == [DeliveryStarted.event_type]


def test_a_repeated_refused_delivery_command_gives_the_same_refusal_and_announces_it_once(sessions):
    order_id, shipment_id = ids()
    undeliverable = {"postal_code": UNDELIVERABLE_POSTAL_CODE}
    first = start(sessions, order_id, shipment_id, address=undeliverable)
    second = start(sessions, order_id, shipment_id, address=undeliverable)
    assert first.refused and first.delivery_id is None and second == first
    assert events(sessions, order_id) == [DeliveryRefused.event_type]


def test_a_repeated_redispatch_hands_the_parcel_over_once(sessions):
    order_id, shipment_id = ids()
    start(sessions, order_id, shipment_id)
    before = delivery(sessions, order_id, shipment_id)
    activity = 2251799813685301  # the Redispatch element instance, the same for every run of its job
    first = run(sessions, commands.redispatch, shipment_id, activity, 60)
    after_first = delivery(sessions, order_id, shipment_id)
    second = run(sessions, commands.redispatch, shipment_id, activity, 600)
    assert first == second == after_first.courier != before.courier
    assert delivery(sessions, order_id, shipment_id) == after_first, "the second run changed nothing"
    assert events(sessions, order_id) == [DeliveryStarted.event_type, DeliveryRedispatched.event_type]


def test_every_new_reminder_redispatches_again(sessions):
    order_id, shipment_id = ids()
    start(sessions, order_id, shipment_id)
    before = delivery(sessions, order_id, shipment_id)
    run(sessions, commands.redispatch, shipment_id, 2251799813685301, 60)
    # After "continue" the process waits again; the next reminder is a new activity instance.
    run(sessions, commands.redispatch, shipment_id, 2251799813685399, 60)
    assert delivery(sessions, order_id, shipment_id).courier == before.courier, "handed on, and on again"
    assert events(sessions, order_id).count(DeliveryRedispatched.event_type) == 2


def test_a_redispatch_of_a_delivered_shipment_does_nothing(sessions):
    order_id, shipment_id = ids()
    start(sessions, order_id, shipment_id, delay_seconds=0)
    run(sessions, commands.finish_due_deliveries)
    assert run(sessions, commands.redispatch, shipment_id, 2251799813685301, 60) is None
    assert DeliveryRedispatched.event_type not in events(sessions, order_id)


def test_a_repeated_cancellation_gives_the_same_answer_and_cancels_once(sessions):
    order_id, delivered, under_way = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    start(sessions, order_id, delivered, delay_seconds=0)
    run(sessions, commands.finish_due_deliveries)
    start(sessions, order_id, under_way)
    first = run(sessions, commands.cancel_deliveries, order_id)
    second = run(sessions, commands.cancel_deliveries, order_id)
    assert first == second == [delivered]
    assert delivery(sessions, order_id, under_way).status == "CANCELLED"
    assert events(sessions, order_id).count(DeliveryCancelled.event_type) == 1


def test_the_delivery_check_sees_a_delivery_however_long_ago_it_completed(sessions):
    order_id, shipment_id = ids()
    start(sessions, order_id, shipment_id, delay_seconds=0)
    assert run(sessions, commands.delivered_at, order_id, shipment_id) is None
    run(sessions, commands.finish_due_deliveries)
    delivered_at = run(sessions, commands.delivered_at, order_id, shipment_id)
    assert delivered_at == delivery(sessions, order_id, shipment_id).delivered_at is not None
    assert run(sessions, commands.delivered_at, order_id, shipment_id) == delivered_at, "asking changes nothing"


def test_the_delivery_check_refuses_a_shipment_never_dispatched(sessions):
    with pytest.raises(commands.UnknownDelivery, match="no delivery of shipment"):
        run(sessions, commands.delivered_at, *ids())
