"""The review's use cases on the Order database: the facts the rules read, an order in review that the reconciler
leaves alone however long it waits, and a rejection stored once with its reason."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from services.order import commands, db, reconciler
from services.order.domain import OrderLine, ReviewMismatch
from shared.contracts.order import ORDER_PLACED, OrderRejected, ReviewResult
from shared.contracts.registry import ORDER
from shared.runtime.db import unit_of_work
from shared.runtime.outbox import UnitOfWork
from tests.integration.conftest import place_test_order

REVIEW = ReviewResult(outcome="review", reason="100 units or more in one order")


def idle_for_an_hour(sessions, order_id: str) -> None:
    with unit_of_work(sessions) as session:
        session.execute(text("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = :id"),
                        {"id": order_id})
        session.execute(text("UPDATE outbox SET published_at = now() WHERE key = :id"), {"id": order_id})


def start_variables(session, order_id: str) -> dict:
    payload = session.execute(text("SELECT payload FROM outbox WHERE key = :id AND topic = :name"),
                              {"id": order_id, "name": ORDER_PLACED.name}).scalar_one()
    return payload if isinstance(payload, dict) else json.loads(payload)


def test_the_start_carries_the_customers_earlier_orders_counted_at_placement(order_sessions):
    customer = f"c-{uuid.uuid4().hex[:8]}"
    with unit_of_work(order_sessions) as session:
        first = place_test_order(session, OrderLine("SKU-R", 3), customer_id=customer).order_id
        second = place_test_order(session, OrderLine("SKU-R", 2), OrderLine("SKU-S", 1), customer_id=customer).order_id
        assert db.earlier_orders(session, customer) == 2
        texts = json.dumps(start_variables(session, first)), json.dumps(start_variables(session, second))
    assert '"earlierOrders": 0' in texts[0] and '"totalUnits": 3' in texts[0] and '"lineCount": 1' in texts[0]
    assert '"earlierOrders": 1' in texts[1] and '"totalUnits": 3' in texts[1] and '"lineCount": 2' in texts[1]


def test_an_order_in_review_is_waiting_by_design_not_stalled(order_sessions):
    with unit_of_work(order_sessions) as session:
        held = place_test_order(session, OrderLine("SKU-R", 100)).order_id
        stalled = place_test_order(session, OrderLine("SKU-R", 1)).order_id
        commands.hold_for_review(UnitOfWork(session, ORDER), held, REVIEW)
        commands.hold_for_review(UnitOfWork(session, ORDER), held, REVIEW)  # a retried job changes nothing
    idle_for_an_hour(order_sessions, held)
    idle_for_an_hour(order_sessions, stalled)
    with unit_of_work(order_sessions) as session:
        found = {s.order_id for s in reconciler.stalled_orders(session, timedelta(minutes=10))}
        order = db.get_order(session, held)
        timeline = [t.what for t in db.get_timeline(session, held)]
    assert held not in found and stalled in found
    assert order.status == "IN_REVIEW"
    assert timeline == ["order placed", "waiting for review: 100 units or more in one order"]


def test_a_rejection_is_stored_once_with_its_reason_and_published(order_sessions):
    with unit_of_work(order_sessions) as session:
        order_id = place_test_order(session, OrderLine("SKU-R", 100)).order_id
        commands.hold_for_review(UnitOfWork(session, ORDER), order_id, REVIEW)
        for _ in range(2):  # a retried job
            commands.reject_order(UnitOfWork(session, ORDER), order_id, REVIEW, "reject", "a typo",
                                  process_instance_key=7)
        order = db.get_order(session, order_id)
        rejected = session.execute(text("SELECT count(*) FROM outbox WHERE key = :id AND topic = 'order.events' "
                                        "AND payload::text LIKE :type"),
                                   {"id": order_id, "type": f"%{OrderRejected.event_type}%"}).scalar_one()
    assert (order.status, order.status_reason, order.process_instance_key) == (
        "REJECTED", "rejected in review: a typo", 7)
    assert rejected == 1


def test_an_approval_cannot_end_an_order_rejected(order_sessions):
    with unit_of_work(order_sessions) as session:
        order_id = place_test_order(session, OrderLine("SKU-R", 100)).order_id
        with pytest.raises(ReviewMismatch):
            commands.reject_order(UnitOfWork(session, ORDER), order_id, REVIEW, "approve", None, process_instance_key=7)
        assert db.get_order(session, order_id).status == "PLACED"
