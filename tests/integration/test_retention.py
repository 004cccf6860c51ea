"""Retention against a real PostgreSQL: one round removes the finished history past its time and nothing an
open order, an active process instance or an all-time figure still needs."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from services.analytics import db as analytics_db
from services.analytics import figures
from services.factory import db as factory_db
from services.monitor import db as monitor_db
from services.order import db as order_db
from services.order.domain import OrderLine, OrderStatus
from shared.runtime.db import unit_of_work
from tests.integration.conftest import migrated_database

KEPT_FOR = timedelta(days=30)
NOW = datetime.now(timezone.utc)
LONG_AGO = NOW - timedelta(days=40)
LATELY = NOW - timedelta(days=2)


def forget_all(sessions, retention) -> int:
    """Rounds of the service's retention until one finds nothing, as the retention loop runs them."""
    total = 0
    while True:
        with unit_of_work(sessions) as session:
            done = sum(forget(session, KEPT_FOR) for forget in retention)
        if not done:
            return total
        total += done


# Process monitor

MONITOR_TABLES = ["element_instances", "taken_flows", "incidents", "user_tasks", "variables"]


def project_instance(session, key: int, *, state: str, started: datetime, ended: datetime | None,
                     parent_key: int | None = None) -> None:
    """An instance as the projection leaves it, with a row in every table about it."""
    db = monitor_db
    session.execute(insert(db.instances).values(
        key=key, definition_key=1, bpmn_process_id="order-fulfillment", version=1, parent_key=parent_key,
        state=state, order_id=f"o-{key}", started_at=started, ended_at=ended, last_record_at=ended or started))
    left = None if state == "ACTIVE" else ended
    session.execute(insert(db.element_instances).values(
        key=key + 1, instance_key=key, definition_key=1, element_id="reserve-stock", element_type="SERVICE_TASK",
        state=state, entered_at=started, left_at=left))
    session.execute(insert(db.taken_flows).values(key=key + 2, instance_key=key, element_id="flow", taken_at=started))
    session.execute(insert(db.incidents).values(
        key=key + 3, instance_key=key, definition_key=1, element_id="reserve-stock", element_instance_key=key + 1,
        error_type="JOB_NO_RETRIES", message="boom", state="RESOLVED", created_at=started, resolved_at=started))
    session.execute(insert(db.user_tasks).values(
        key=key + 4, instance_key=key, definition_key=1, element_id="decide", element_instance_key=key + 1,
        candidate_groups=[], candidate_users=[], state="COMPLETED", created_at=started, ended_at=left))
    session.execute(insert(db.variables).values(key=key + 5, instance_key=key, scope_key=key, name="orderId",
                                                value=f'"o-{key}"', updated_at=started))


def monitor_rows_of(session) -> dict[str, set[int]]:
    """The instance keys each of the monitor's tables holds rows of."""
    rows = {"instances": set(session.execute(select(monitor_db.instances.c.key)).scalars())}
    for name in MONITOR_TABLES:
        table = monitor_db.metadata.tables[name]
        rows[name] = set(session.execute(select(table.c.instance_key)).scalars())
    return rows


def test_the_monitor_forgets_instances_that_ended_long_ago_and_keeps_active_ones_and_their_calls(stack):
    from services.monitor.app import service

    ended_long_ago, active_long, ended_lately, active_parent, its_ended_call = 100, 200, 300, 400, 500
    with migrated_database(stack, "monitor") as sessions:
        with unit_of_work(sessions) as session:
            project_instance(session, ended_long_ago, state="COMPLETED", started=LONG_AGO, ended=LONG_AGO)
            project_instance(session, active_long, state="ACTIVE", started=LONG_AGO, ended=None)
            project_instance(session, ended_lately, state="TERMINATED", started=LONG_AGO, ended=LATELY)
            project_instance(session, active_parent, state="ACTIVE", started=LONG_AGO, ended=None)
            project_instance(session, its_ended_call, state="COMPLETED", started=LONG_AGO, ended=LONG_AGO,
                             parent_key=active_parent)

        assert forget_all(sessions, service.retention) > 0

        kept = {active_long, ended_lately, active_parent, its_ended_call}
        with unit_of_work(sessions) as session:
            assert monitor_rows_of(session) == {name: kept for name in ["instances", *MONITOR_TABLES]}, \
                "only the instance that ended long ago goes; an active one's page still shows what it called"


def test_the_monitor_forgets_audit_entries_and_finished_operations_past_their_time_and_keeps_running_ones(stack):
    from services.monitor import audit, batches
    from services.monitor.app import service

    operations = batches.operations
    with migrated_database(stack, "monitor") as sessions:
        with unit_of_work(sessions) as session:
            for at, target in ((LONG_AGO, "old"), (LATELY, "recent")):
                session.execute(insert(audit.audit).values(at=at, actor="olivia", action="retry-incident",
                                                           target=target, result="ok"))
            made = {name: operations.create(session, "incident-retry", {}, "olivia", targets)
                    for name, targets in (("old done", []), ("old running", ["1"]), ("recent done", []))}
            for name, created in (("old done", LONG_AGO), ("old running", LONG_AGO), ("recent done", LATELY)):
                session.execute(operations.operations.update().where(operations.operations.c.id == made[name])
                                .values(created_at=created))

        assert forget_all(sessions, service.retention) > 0

        with unit_of_work(sessions) as session:
            assert session.execute(select(audit.audit.c.target)).scalars().all() == ["recent"]
            kept = set(session.execute(select(operations.operations.c.id)).scalars())
            assert kept == {made["old running"], made["recent done"]}, "a running operation stays whatever its age"
            assert session.scalar(select(func.count()).select_from(operations.items)) == 1


# Order service

def place(session, *, ended_as: OrderStatus | None, last_moved: datetime) -> str:
    """An order with a full timeline from placing to `ended_as` (None: still open), idle since `last_moved`."""
    order_id = str(uuid.uuid4())
    order_db.insert_order(session, order_id=order_id, customer_id="c-1", shipping_address={"postal_code": "1"},
                          lines=[OrderLine("SKU-1", 1)], accepts_partial=True, idempotency_key=None,
                          fingerprint="f")
    steps = [OrderStatus.RESERVED, OrderStatus.PACKED, OrderStatus.IN_DELIVERY, OrderStatus.DELIVERED]
    for step in steps + ([ended_as] if ended_as else []):
        order_db.add_timeline(session, order_id, step, f"now {step}", at=LONG_AGO)
    session.execute(order_db.orders.update().where(order_db.orders.c.id == order_id).values(
        status=ended_as or OrderStatus.DELIVERED, updated_at=last_moved))
    session.execute(order_db.order_timeline.update().where(order_db.order_timeline.c.order_id == order_id)
                    .values(at=LONG_AGO))
    return order_id


def test_old_final_orders_keep_how_they_began_and_ended_while_open_and_recent_ones_keep_every_step(stack):
    from services.order.app import service

    with migrated_database(stack, "order") as sessions:
        with unit_of_work(sessions) as session:
            completed_long_ago = place(session, ended_as=OrderStatus.COMPLETED, last_moved=LONG_AGO)
            cancelled_long_ago = place(session, ended_as=OrderStatus.CANCELLED, last_moved=LONG_AGO)
            open_long = place(session, ended_as=None, last_moved=LONG_AGO)
            completed_lately = place(session, ended_as=OrderStatus.COMPLETED, last_moved=LATELY)

        assert forget_all(sessions, service.retention) == 8

        with unit_of_work(sessions) as session:
            def timeline(order_id: str) -> list[str]:
                return [entry.status for entry in order_db.get_timeline(session, order_id)]

            assert timeline(completed_long_ago) == ["PLACED", "COMPLETED"]
            assert timeline(cancelled_long_ago) == ["PLACED", "CANCELLED"]
            every_step = ["PLACED", "RESERVED", "PACKED", "IN_DELIVERY", "DELIVERED"]
            assert timeline(open_long) == every_step, "an open order keeps its whole history"
            assert timeline(completed_lately) == [*every_step, "COMPLETED"]
            orders = session.execute(select(func.count()).select_from(order_db.orders)).scalar_one()
            lines = session.execute(select(func.count()).select_from(order_db.order_lines)).scalar_one()
            assert (orders, lines) == (4, 4), "the orders themselves stay: a customer may look them up"


# Analytics

def test_analytics_forgets_facts_past_their_time_and_its_all_time_figures_stay_the_same(stack):
    from services.analytics.app import service

    db = analytics_db
    with migrated_database(stack, "analytics") as sessions:
        with unit_of_work(sessions) as session:
            db.record_order(session, "done-long-ago", placed_at=LONG_AGO, first_pass_full=True, reserved_at=LONG_AGO,
                            completed_at=LONG_AGO)
            db.set_delivered(session, "done-long-ago", LONG_AGO)
            db.record_order(session, "cancelled-long-ago", placed_at=LONG_AGO, first_pass_full=False,
                            reserved_at=LONG_AGO, cancelled_at=LONG_AGO)
            db.record_order(session, "failed-long-ago", placed_at=LONG_AGO, delivery_failed_at=LONG_AGO)
            db.record_order(session, "open-long", placed_at=LONG_AGO, first_pass_full=False, reserved_at=LONG_AGO)
            db.record_order(session, "done-lately", placed_at=LATELY, first_pass_full=True, reserved_at=LATELY,
                            completed_at=LATELY)
            db.set_delivered(session, "done-lately", LATELY)
            db.record_backorder(session, request_id="b-closed", order_id="cancelled-long-ago", sku="S", quantity=2,
                                at=LONG_AGO)
            db.close_backorders(session, order_id="cancelled-long-ago", at=LONG_AGO)
            db.record_backorder(session, request_id="b-open", order_id="open-long", sku="S", quantity=3, at=LONG_AGO)
            db.record_production(session, request_id="p-old", sku="S", quantity=5, at=LONG_AGO)
            db.record_production(session, request_id="p-new", sku="S", quantity=7, at=LATELY)
            db.record_breach(session, event_id="e-old", order_id="done-long-ago", at=LONG_AGO)
            db.record_breach(session, event_id="e-new", order_id="done-lately", at=LATELY)
            before = figures.compute(session, now=NOW, window=timedelta(days=7))

        assert forget_all(sessions, service.retention) > 0

        with unit_of_work(sessions) as session:
            after = figures.compute(session, now=NOW, window=timedelta(days=7))
            assert {r.order_id for r in db.all_rows(session, db.order_facts)} == {"open-long", "done-lately"}
            assert {r.request_id for r in db.all_rows(session, db.backorder_facts)} == {"b-open"}
            assert {r.request_id for r in db.all_rows(session, db.production_facts)} == {"p-new"}
            assert {r.event_id for r in db.all_rows(session, db.deadline_breaches)} == {"e-new"}
        for figure in ("orders", "first_pass_fill_rate", "open_backorders", "factory", "delivery_deadline_breaches",
                       "over_time"):
            assert after[figure] == before[figure], figure
        assert after["lead_time_seconds"]["count"] == 1, "lead times cover the orders still kept"


# Factory

@pytest.mark.parametrize("finished_as", ["PRODUCED", "WITHDRAWN"])
def test_the_factory_forgets_production_finished_long_ago_and_keeps_what_is_still_to_make(stack, finished_as):
    from services.factory.app import service

    def production_order(request_id: str, status: str, requested: datetime) -> dict:
        return {"request_id": request_id, "order_id": "o-1", "sku": "S", "quantity": 1, "status": status,
                "due_at": requested, "created_at": requested,
                "produced_at": requested if status == "PRODUCED" else None}

    with migrated_database(stack, "factory") as sessions:
        with unit_of_work(sessions) as session:
            session.execute(insert(factory_db.production_orders), [
                production_order("finished-long-ago", finished_as, LONG_AGO),
                production_order("finished-lately", finished_as, LATELY),
                production_order("still-to-make", "REQUESTED", LONG_AGO)])

        assert forget_all(sessions, service.retention) == 1

        with unit_of_work(sessions) as session:
            left = set(session.execute(select(factory_db.production_orders.c.request_id)).scalars())
        assert left == {"finished-lately", "still-to-make"}


# Warehouse and Delivery: they hear of an order's end only when its work is undone (closed_orders)

def test_the_warehouse_forgets_orders_whose_stock_it_released_long_ago_and_keeps_every_other_order(stack):
    from services.warehouse import db
    from services.warehouse.app import service

    def order_with_everything(session, order_id: str, *, closed_at: datetime | None) -> None:
        session.execute(insert(db.reservations).values(order_id=order_id, sku="KB-101", requested=2, reserved=1,
                                                       picked=1, status="RELEASED" if closed_at else "RESERVED"))
        session.execute(insert(db.backorders).values(id=f"b-{order_id}", order_id=order_id, sku="KB-101",
                                                     quantity=1, status="WITHDRAWN" if closed_at else "OPEN"))
        db.insert_shipment(session, f"s-{order_id}", order_id, 1, [("KB-101", 1)])
        if closed_at:
            session.execute(insert(db.closed_orders.table).values(order_id=order_id, closed_at=closed_at))

    with migrated_database(stack, "warehouse") as sessions:
        with unit_of_work(sessions) as session:
            order_with_everything(session, "released-long-ago", closed_at=LONG_AGO)
            order_with_everything(session, "released-lately", closed_at=LATELY)
            order_with_everything(session, "never-released", closed_at=None)

        assert forget_all(sessions, service.retention) == 1

        kept = {"released-lately", "never-released"}
        with unit_of_work(sessions) as session:
            for table in (db.reservations, db.backorders, db.shipments):
                assert set(session.execute(select(table.c.order_id)).scalars()) == kept, table.name
            assert set(session.execute(select(db.shipment_lines.c.shipment_id)).scalars()) == {f"s-{o}" for o in kept}
            assert set(session.execute(select(db.closed_orders.key)).scalars()) == {"released-lately"}


def test_delivery_forgets_orders_whose_deliveries_it_called_back_long_ago_and_keeps_every_other_order(stack):
    from services.delivery import db
    from services.delivery.app import service

    def order_with_everything(session, order_id: str, *, closed_at: datetime | None) -> None:
        session.execute(insert(db.deliveries).values(
            id=f"d-{order_id}", order_id=order_id, shipment_id=f"s-{order_id}", items=[], courier="courier-north",
            status="CANCELLED" if closed_at else "DELIVERED", due_at=LONG_AGO, dispatched_at=LONG_AGO))
        session.execute(insert(db.redispatches).values(element_instance_key=abs(hash(order_id)) % 10**9,
                                                       delivery_id=f"d-{order_id}", courier="courier-south"))
        session.execute(insert(db.refusals).values(order_id=order_id, shipment_id=f"s2-{order_id}", reason="no"))
        if closed_at:
            session.execute(insert(db.closed_orders.table).values(order_id=order_id, closed_at=closed_at))

    with migrated_database(stack, "delivery") as sessions:
        with unit_of_work(sessions) as session:
            order_with_everything(session, "called-back-long-ago", closed_at=LONG_AGO)
            order_with_everything(session, "called-back-lately", closed_at=LATELY)
            order_with_everything(session, "delivered-long-ago", closed_at=None)

        assert forget_all(sessions, service.retention) == 1

        kept = {"called-back-lately", "delivered-long-ago"}
        with unit_of_work(sessions) as session:
            for table in (db.deliveries, db.refusals):
                assert set(session.execute(select(table.c.order_id)).scalars()) == kept, table.name
            assert set(session.execute(select(db.redispatches.c.delivery_id)).scalars()) == {f"d-{o}" for o in kept}
            assert set(session.execute(select(db.closed_orders.key)).scalars()) == {"called-back-lately"}
