"""The reconciler asks the process monitor with no order locked: a slow monitor holds up no order's events."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from contracts.process import Deadlines
from runtime.db import unit_of_work
from services.order import commands, db, reconciler
from services.order.domain import OrderLine
from tests.integration.conftest import migrated_database

DEADLINES = Deadlines(stock_wait_reminder="PT1H", stock_wait_deadline="PT2H", delivery_reminder="PT1H",
                      delivery_deadline="PT2H")


@pytest.fixture
def order_sessions(stack):
    with migrated_database(stack, "order") as sessions:
        yield sessions


def stalled_order(sessions) -> str:
    """An order placed an hour ago whose start message went out, and nothing since."""
    with unit_of_work(sessions) as session:
        order_id = commands.place_order(session, customer_id="c-1", items=[OrderLine("SKU-1", 1)],
                                        shipping_address={"postal_code": "12345"}, accepts_partial=True,
                                        idempotency_key=None, deadlines=DEADLINES).order_id
        session.execute(text("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = :id"),
                        {"id": order_id})
        session.execute(text("UPDATE outbox SET published_at = now() WHERE key = :id"), {"id": order_id})
    return order_id


def lockable(sessions, order_id: str) -> bool:
    """Whether another transaction could take the order's row lock now, as taking in its events does."""
    with sessions.connect() as other, other.begin():
        try:
            other.execute(text("SELECT 1 FROM orders WHERE id = :id FOR UPDATE NOWAIT"), {"id": order_id})
            return True
        except OperationalError:
            return False


def test_the_monitor_is_asked_while_no_order_is_locked_and_the_report_follows(order_sessions):
    order_id, other_id = stalled_order(order_sessions), stalled_order(order_sessions)
    asked = {}

    def engine_view(asked_for: str):
        asked[asked_for] = lockable(order_sessions, order_id) and lockable(order_sessions, other_id)
        return []

    with unit_of_work(order_sessions) as session:
        assert reconciler.reconcile(session, timedelta(minutes=10), engine_view) == 2
    assert asked == {order_id: True, other_id: True}
    with unit_of_work(order_sessions) as session:
        last = db.get_timeline(session, order_id)[-1].what
    assert last.startswith("stalled: no progress for 60 min") and "its start never arrived" in last


def test_an_order_reported_already_is_neither_asked_about_nor_reported_again(order_sessions):
    order_id = stalled_order(order_sessions)
    with unit_of_work(order_sessions) as session:
        assert reconciler.reconcile(session, timedelta(minutes=10), lambda _: []) == 1
    asked = []
    with unit_of_work(order_sessions) as session:
        assert reconciler.reconcile(session, timedelta(minutes=10), lambda order: asked.append(order) or []) == 0
        reports = [e.what for e in db.get_timeline(session, order_id) if e.what.startswith("stalled")]
    assert asked == [] and len(reports) == 1
