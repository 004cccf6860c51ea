"""The reconciler asks the process monitor with no order locked: a slow monitor holds up no order's events."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from services.order import commands, db, reconciler
from services.order.domain import OrderLine, ShipmentStage, waiting_for
from shared.contracts.order import CANCEL_REQUESTED, ORDER_PLACED
from shared.contracts.registry import ORDER
from shared.runtime.db import unit_of_work
from shared.runtime.outbox import UnitOfWork
from tests.conftest import eventually
from tests.integration.conftest import place_test_order, waiting_for_locks


def stalled_order(sessions) -> str:
    """An order placed an hour ago whose start message went out, and nothing since."""
    with unit_of_work(sessions) as session:
        order_id = place_test_order(session, OrderLine("SKU-1", 1)).order_id
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
        assert reconciler.reconcile(UnitOfWork(session, ORDER), timedelta(minutes=10), engine_view) == 2
    assert asked == {order_id: True, other_id: True}
    with unit_of_work(order_sessions) as session:
        last = db.get_timeline(session, order_id)[-1].what
    assert last.startswith("stalled: no progress for 60 min") and "its start never arrived" in last


def test_an_order_reported_already_is_neither_asked_about_nor_reported_again(order_sessions):
    order_id = stalled_order(order_sessions)
    with unit_of_work(order_sessions) as session:
        assert reconciler.reconcile(UnitOfWork(session, ORDER), timedelta(minutes=10), lambda _: []) == 1
    asked = []
    with unit_of_work(order_sessions) as session:
        assert reconciler.reconcile(UnitOfWork(session, ORDER), timedelta(minutes=10),
                                    lambda order: asked.append(order) or []) == 0
        reports = [e.what for e in db.get_timeline(session, order_id) if e.what.startswith("stalled")]
    assert asked == [] and len(reports) == 1


def place(sessions, *, idle_minutes: int = 60, published: bool = True, **state) -> str:
    """An order placed `idle_minutes` ago with its start message out (unless not `published`); `state`: columns of
    the order to set, as taking in other services' reports would have."""
    with unit_of_work(sessions) as session:
        order_id = place_test_order(session, OrderLine("SKU-1", 1)).order_id
        assignments = "".join(f", {column} = :{column}" for column in state)
        session.execute(text(f"UPDATE orders SET updated_at = now() - make_interval(mins => :idle){assignments} "
                             "WHERE id = :id"), {"id": order_id, "idle": idle_minutes, **state})
        if published:
            session.execute(text("UPDATE outbox SET published_at = now() WHERE key = :id"), {"id": order_id})
    return order_id


def expire(sessions, order_id: str, message: str) -> None:
    with unit_of_work(sessions) as session:
        session.execute(text("UPDATE outbox SET published_at = NULL, expired_at = now() "
                             "WHERE key = :id AND topic = :message"), {"id": order_id, "message": message})


def message_rows(sessions, order_id: str, message: str) -> list:
    with unit_of_work(sessions) as session:
        return session.execute(text("SELECT id, payload->>'message_id' AS message_id FROM outbox "
                                    "WHERE key = :id AND topic = :message ORDER BY seq"),
                               {"id": order_id, "message": message}).all()


def timeline(sessions, order_id: str) -> list[str]:
    with unit_of_work(sessions) as session:
        return [entry.what for entry in db.get_timeline(session, order_id)]


def reconcile_once(sessions) -> int:
    with unit_of_work(sessions) as session:
        return reconciler.reconcile(UnitOfWork(session, ORDER), timedelta(minutes=10), lambda _: [])


def test_a_stalled_order_is_found_behind_more_than_a_page_of_orders_waiting_by_design_or_reported(order_sessions):
    # 120 older orders wait for stock, 60 for a courier, 110 were reported already: more than a page of each.
    for _ in range(120):
        place(order_sessions, idle_minutes=300, status="AWAITING_STOCK", reserved=True, backorder_open=True)
    for _ in range(60):
        courier = place(order_sessions, idle_minutes=300, status="IN_DELIVERY", reserved=True)
        with unit_of_work(order_sessions) as session:
            session.execute(text("INSERT INTO order_shipments VALUES (:id, 's-1', 'IN_DELIVERY', 1)"), {"id": courier})
    reported = [place(order_sessions, idle_minutes=200) for _ in range(110)]
    with unit_of_work(order_sessions) as session:
        for order_id in reported:
            db.add_timeline(session, order_id, "PLACED", "stalled: reported in an earlier round")
    stalled = place(order_sessions, idle_minutes=60)

    while reconcile_once(order_sessions):
        pass  # the loop runs rounds back to back while they act
    assert any(what.startswith("stalled: no progress for 60 min") for what in timeline(order_sessions, stalled))
    with unit_of_work(order_sessions) as session:
        listed = [s.order_id for s in reconciler.stalled_orders(session, timedelta(minutes=10), limit=500)]
        page = reconciler.stalled_orders(session, timedelta(minutes=10), limit=100)
        rest = reconciler.stalled_orders(session, timedelta(minutes=10), after=page[-1].cursor, limit=100)
    assert listed == reported + [stalled], "the stuck list: every stalled order, oldest first, none that waits"
    assert [s.order_id for s in page + rest] == listed, "keyset pages cover the list once"


def test_which_orders_the_query_leaves_out_as_waiting_is_what_the_domain_says(order_sessions):
    cases = {(backorder_open, stage): None for backorder_open in (False, True)
             for stage in (None, "PACKED", "IN_DELIVERY", "DELIVERED")}
    for backorder_open, stage in cases:
        order_id = place(order_sessions, status="RESERVED", reserved=True, backorder_open=backorder_open)
        if stage:
            with unit_of_work(order_sessions) as session:
                session.execute(text("INSERT INTO order_shipments VALUES (:id, 's-1', :stage, 1)"),
                                {"id": order_id, "stage": stage})
        cases[backorder_open, stage] = order_id
    with unit_of_work(order_sessions) as session:
        found = {s.order_id for s in reconciler.stalled_orders(session, timedelta(minutes=10))}
    for (backorder_open, stage), order_id in cases.items():
        waiting = waiting_for(backorder_open, [ShipmentStage(stage)] if stage else [])
        assert (order_id in found) == (waiting is None), (backorder_open, stage)


def test_two_replicas_racing_for_an_expired_start_send_it_once_under_an_id_derived_from_the_expired_row(
        order_sessions):
    order_id = place(order_sessions)
    expire(order_sessions, order_id, ORDER_PLACED.name)
    expired_row = message_rows(order_sessions, order_id, ORDER_PLACED.name)[0].id
    with ThreadPoolExecutor(1) as other_replica:
        with unit_of_work(order_sessions) as session:
            assert reconciler.reconcile(UnitOfWork(session, ORDER), timedelta(minutes=10), lambda _: []) == 1
            # The other replica's round scans now, then waits for the order this one holds.
            racing = other_replica.submit(reconcile_once, order_sessions)
            eventually(lambda: waiting_for_locks(order_sessions) == 1 or racing.done(),
                       what="the other replica to wait for the order's lock")
        racing.result(timeout=30)
    rows = message_rows(order_sessions, order_id, ORDER_PLACED.name)
    assert len(rows) == 2, "the expired start and one resend"
    assert rows[1].message_id == f"{ORDER_PLACED.name}:{order_id}:again:{expired_row}"
    assert sum(what.startswith("stalled, repaired: the order-placed message expired")
               for what in timeline(order_sessions, order_id)) == 1


def test_an_expired_cancellation_is_sent_again_while_the_order_waits_for_stock_and_along_with_an_expired_start(
        order_sessions):
    waiting = place(order_sessions, status="AWAITING_STOCK", reserved=True, backorder_open=True)
    never_started = place(order_sessions, idle_minutes=90, published=False)
    for order_id in (waiting, never_started):
        with unit_of_work(order_sessions) as session:
            commands.request_cancellation(UnitOfWork(session, ORDER), order_id, actor="alice")
        expire(order_sessions, order_id, CANCEL_REQUESTED.name)
    expire(order_sessions, never_started, ORDER_PLACED.name)

    assert reconcile_once(order_sessions) >= 3
    for order_id in (waiting, never_started):
        assert len(message_rows(order_sessions, order_id, CANCEL_REQUESTED.name)) == 2, "sent again"
        resent = f"the {CANCEL_REQUESTED.name} message expired unpublished; sent it again"
        assert resent in timeline(order_sessions, order_id)
    assert len(message_rows(order_sessions, never_started, ORDER_PLACED.name)) == 2
    reconcile_once(order_sessions)
    assert len(message_rows(order_sessions, waiting, CANCEL_REQUESTED.name)) == 2, "once: the resend answers it"


def test_an_expired_message_of_a_finished_order_is_not_sent_again(order_sessions):
    order_id = place(order_sessions)
    with unit_of_work(order_sessions) as session:
        commands.request_cancellation(UnitOfWork(session, ORDER), order_id, actor="alice")
    expire(order_sessions, order_id, CANCEL_REQUESTED.name)
    with unit_of_work(order_sessions) as session:
        session.execute(text("UPDATE orders SET status = 'COMPLETED' WHERE id = :id"), {"id": order_id})
    reconcile_once(order_sessions)
    assert len(message_rows(order_sessions, order_id, CANCEL_REQUESTED.name)) == 1


def test_an_order_locked_for_a_resend_is_let_go_before_the_monitor_is_asked_about_others(order_sessions):
    waiting = place(order_sessions, status="AWAITING_STOCK", reserved=True, backorder_open=True)
    with unit_of_work(order_sessions) as session:
        commands.request_cancellation(UnitOfWork(session, ORDER), waiting, actor="alice")
    expire(order_sessions, waiting, CANCEL_REQUESTED.name)
    stalled = place(order_sessions)
    asked = {}

    def engine_view(order_id: str):
        asked[order_id] = lockable(order_sessions, waiting)
        return []

    while True:
        with unit_of_work(order_sessions) as session:
            if not reconciler.reconcile(UnitOfWork(session, ORDER), timedelta(minutes=10), engine_view):
                break
    assert asked == {stalled: True}
    assert len(message_rows(order_sessions, waiting, CANCEL_REQUESTED.name)) == 2
