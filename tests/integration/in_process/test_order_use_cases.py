"""The Order's use cases and what they decide: where an order's status lands whatever order the reports come in,
how a cancellation is answered and settled, what each writes to the outbox. One transaction per test, rolled back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import select

from services.order import commands, db
from services.order.domain import (
    CancelOutcome,
    IdempotencyConflict,
    ImplausibleReport,
    OrderLine,
    OrderLinesRefused,
    OrderStatus,
    Report,
    Shipment,
    ShipmentStage,
    UnknownOrder,
)
from shared.contracts.order import (
    CANCEL_REQUESTED,
    ORDER_PLACED,
    SERVICE,
    OrderCancellationRefused,
    OrderCancellationRequested,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
)
from shared.runtime.envelope import Envelope
from shared.runtime.tables import outbox
from tests.integration.conftest import TEST_DEADLINES, TEST_LIMITS
from tests.integration.in_process.conftest import events_of, messages_of, module_database, rolled_back

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
PACKED, IN_DELIVERY, DELIVERED = ShipmentStage.PACKED, ShipmentStage.IN_DELIVERY, ShipmentStage.DELIVERED


order_database = module_database("order")


@pytest.fixture
def uow(order_database):
    with rolled_back(order_database, SERVICE) as unit:
        for sku in ("KB-101", "MS-202"):
            commands.list_sku(unit, sku, "test item")
        yield unit


def place(uow, *items: tuple[str, int], customer_id: str = "alice", key: str | None = None) -> commands.Placed:
    return commands.place_order(uow, customer_id=customer_id, items=[OrderLine(sku, q) for sku, q in items],
                                shipping_address={"postal_code": "12345"}, accepts_partial=True,
                                idempotency_key=key, deadlines=TEST_DEADLINES, limits=TEST_LIMITS)


def placed(uow, *items: tuple[str, int]) -> str:
    return place(uow, *(items or [("KB-101", 3)])).order_id


def report(uow, order_id: str, what: str, fact: Report, reported: OrderStatus, minute: int | None = None) -> None:
    """As a consumed event reports it; `minute`: when it happened (after START), which its timeline entry keeps."""
    caused_by = None
    if minute is not None:
        caused_by = Envelope(type="test.report.v1", source="/test", subject=order_id, data={},
                             correlation_id=order_id, time=START + timedelta(minutes=minute))
    commands.record_progress(uow, order_id, what, fact, reported=reported, caused_by=caused_by)


def shipment(shipment_id: str, stage: ShipmentStage, units: int | None = None) -> Report:
    return Report(shipment=(shipment_id, Shipment(stage, units)))


def status(uow, order_id: str) -> OrderStatus:
    return OrderStatus(db.get_order(uow.session, order_id).status)


def timeline(uow, order_id: str) -> list[tuple[str, str]]:
    return [(t.status, t.what) for t in db.get_timeline(uow.session, order_id)]


def event_types(uow, order_id: str) -> list[str]:
    return [event_type for event_type, _ in events_of(uow.session, order_id)]


RESERVED_IN_FULL = Report(reserved=True, backorder_open=False)


# place_order

def test_placing_writes_the_placed_event_and_the_start_message_with_the_customers_earlier_orders(uow):
    first = place(uow, ("KB-101", 1), ("KB-101", 2))
    second = place(uow, ("MS-202", 1))

    assert first.created and status(uow, first.order_id) is OrderStatus.PLACED
    assert events_of(uow.session, first.order_id) == [(OrderPlaced.event_type, {
        "order_id": first.order_id, "customer_id": "alice", "items": [{"sku": "KB-101", "quantity": 3}]})]
    [(name, message)] = messages_of(uow.session, second.order_id)
    assert (name, message["message_id"]) == (ORDER_PLACED.name, second.order_id)
    assert (message["variables"]["earlierOrders"], message["variables"]["totalUnits"]) == (1, 1)


def test_placing_keeps_the_trace_that_placed_the_order_on_it_and_on_its_outbox_rows(uow):
    provider = TracerProvider()  # a sampling tracer of its own: the process has no provider in the tests
    with provider.get_tracer("test").start_as_current_span("POST /orders") as request:
        order_id = placed(uow)
    trace_id = trace.format_trace_id(request.get_span_context().trace_id)
    assert db.get_order(uow.session, order_id).trace_id == trace_id
    rows = uow.session.execute(select(outbox.c.destination, outbox.c.traceparent).where(outbox.c.key == order_id)).all()
    assert {r.destination for r in rows} == {"kafka", "zeebe"}
    assert all(r.traceparent.split("-")[1] == trace_id for r in rows)


def test_placing_refuses_items_off_the_catalog_or_over_the_limits_and_writes_nothing(uow):
    with pytest.raises(OrderLinesRefused) as refused:
        place(uow, ("XX-999", 1), ("KB-101", TEST_LIMITS.max_units_per_line + 1))

    assert [(p.index, p.field) for p in refused.value.problems] == [(0, "sku"), (1, "quantity")]
    assert db.list_orders(uow.session, status=None, customer_id="alice", limit=10, offset=0) == []


def test_placing_again_with_the_key_returns_the_first_order_and_another_request_with_it_conflicts(uow):
    first = place(uow, ("KB-101", 1), key="k-1")

    assert place(uow, ("KB-101", 1), key="k-1") == commands.Placed(first.order_id, created=False)
    assert len(messages_of(uow.session, first.order_id)) == 1
    with pytest.raises(IdempotencyConflict):
        place(uow, ("KB-101", 2), key="k-1")


# record_progress: the status follows from the facts reported, not from the order they come in

def test_a_full_reservation_makes_the_order_reserved_and_its_timeline_says_so(uow):
    order_id = placed(uow)
    report(uow, order_id, "stock reserved", RESERVED_IN_FULL, OrderStatus.RESERVED)

    assert status(uow, order_id) is OrderStatus.RESERVED
    assert timeline(uow, order_id)[-1] == ("RESERVED", "stock reserved")


def test_a_partial_reservation_waits_for_stock_until_the_rest_is_allocated(uow):
    order_id = placed(uow)
    report(uow, order_id, "part reserved", Report(reserved=True, backorder_open=True), OrderStatus.AWAITING_STOCK)
    assert status(uow, order_id) is OrderStatus.AWAITING_STOCK

    report(uow, order_id, "backordered stock arrived", RESERVED_IN_FULL, OrderStatus.RESERVED)
    assert status(uow, order_id) is OrderStatus.RESERVED


def test_a_shipment_reported_delivered_before_it_was_packed_lands_where_the_events_in_order_would(uow):
    in_order, out_of_order = placed(uow), placed(uow)
    reports = [("packed", shipment("s-1", PACKED, 3), OrderStatus.PACKED, 1),
               ("on its way", shipment("s-1", IN_DELIVERY), OrderStatus.IN_DELIVERY, 2),
               ("delivered", shipment("s-1", DELIVERED), OrderStatus.DELIVERED, 3)]
    for order_id in (in_order, out_of_order):
        report(uow, order_id, "stock reserved", RESERVED_IN_FULL, OrderStatus.RESERVED, minute=0)
    for what, fact, reported, minute in reports:
        report(uow, in_order, what, fact, reported, minute)
    for what, fact, reported, minute in reversed(reports):
        report(uow, out_of_order, what, fact, reported, minute)
        assert status(uow, out_of_order) is not OrderStatus.DELIVERED or what == "packed", \
            "delivered only once every unit is known to be in a shipment"

    assert status(uow, in_order) is status(uow, out_of_order) is OrderStatus.DELIVERED
    assert timeline(uow, out_of_order) == timeline(uow, in_order), "each entry at the time its event happened"


def test_an_order_shipped_in_two_parts_is_partial_until_its_last_units_are_delivered(uow):
    order_id = placed(uow)
    report(uow, order_id, "part reserved", Report(reserved=True, backorder_open=True), OrderStatus.AWAITING_STOCK)
    steps = [
        (shipment("s-1", PACKED, 2), OrderStatus.PARTIALLY_SHIPPED),
        (shipment("s-1", DELIVERED), OrderStatus.PARTIALLY_DELIVERED),
        (RESERVED_IN_FULL, OrderStatus.PARTIALLY_DELIVERED),
        (shipment("s-2", PACKED, 1), OrderStatus.PARTIALLY_DELIVERED),
        (shipment("s-2", IN_DELIVERY), OrderStatus.PARTIALLY_DELIVERED),
        (shipment("s-2", DELIVERED), OrderStatus.DELIVERED),
    ]
    for fact, expected in steps:
        report(uow, order_id, "progress", fact, expected)
        assert status(uow, order_id) is expected, fact


def test_a_final_status_stays_whatever_is_reported_after_it(uow):
    order_id = placed(uow)
    commands.close_order(uow, order_id, OrderStatus.CANCELLED, process_instance_key=1)

    report(uow, order_id, "late: shipment packed", shipment("s-1", PACKED, 3), OrderStatus.PACKED)

    assert status(uow, order_id) is OrderStatus.CANCELLED
    assert timeline(uow, order_id)[-1] == ("PACKED", "late: shipment packed"), "still on the timeline"


def test_a_report_that_cannot_be_true_or_about_no_order_is_refused(uow):
    order_id = placed(uow)
    with pytest.raises(ImplausibleReport):
        report(uow, order_id, "packed", shipment("s-1", PACKED, 4), OrderStatus.PACKED)
    with pytest.raises(UnknownOrder):
        report(uow, "no-such-order", "stock reserved", RESERVED_IN_FULL, OrderStatus.RESERVED)
    assert status(uow, order_id) is OrderStatus.PLACED


# request_cancellation and close_order

def test_a_cancellation_of_a_running_order_is_pending_and_asks_the_process_once(uow):
    order_id = placed(uow)

    cancellation, at = commands.request_cancellation(uow, order_id, actor="alice")
    again, _ = commands.request_cancellation(uow, order_id, actor="alice")

    assert (cancellation.outcome, at) == (CancelOutcome.PENDING, OrderStatus.PLACED)
    assert again == cancellation, "asked again: the first request"
    assert event_types(uow, order_id) == [OrderPlaced.event_type, OrderCancellationRequested.event_type]
    assert [(name, m["message_id"]) for name, m in messages_of(uow.session, order_id)][1:] == [
        (CANCEL_REQUESTED.name, f"{CANCEL_REQUESTED.name}:{order_id}")]


def test_a_cancellation_of_a_delivered_order_is_refused_at_once_and_the_process_not_asked(uow):
    order_id = placed(uow)
    report(uow, order_id, "stock reserved", RESERVED_IN_FULL, OrderStatus.RESERVED)
    report(uow, order_id, "packed", shipment("s-1", PACKED, 3), OrderStatus.PACKED)
    report(uow, order_id, "delivered", shipment("s-1", DELIVERED), OrderStatus.DELIVERED)

    cancellation, at = commands.request_cancellation(uow, order_id, actor="alice")

    assert (cancellation.outcome, at) == (CancelOutcome.REFUSED, OrderStatus.DELIVERED)
    assert "delivered" in cancellation.reason
    assert event_types(uow, order_id)[-2:] == [OrderCancellationRequested.event_type,
                                               OrderCancellationRefused.event_type]
    assert [name for name, _ in messages_of(uow.session, order_id)] == [ORDER_PLACED.name]
    assert timeline(uow, order_id)[-1] == ("DELIVERED", f"cancellation refused: {cancellation.reason}")


def test_a_cancellation_of_an_unknown_order_is_refused(uow):
    with pytest.raises(UnknownOrder):
        commands.request_cancellation(uow, "no-such-order", actor="alice")


def test_closing_an_order_cancelled_settles_its_pending_cancellation_as_cancelled(uow):
    order_id = placed(uow)
    commands.request_cancellation(uow, order_id, actor="alice")

    commands.close_order(uow, order_id, OrderStatus.CANCELLED, process_instance_key=7)

    order = db.get_order(uow.session, order_id)
    assert (order.status, order.process_instance_key) == (OrderStatus.CANCELLED, 7)
    assert db.cancellation_of(order).outcome is CancelOutcome.CANCELLED
    assert event_types(uow, order_id)[-1] == OrderCancelled.event_type


def test_closing_an_order_completed_refuses_its_pending_cancellation_with_the_reason(uow):
    order_id = placed(uow)
    commands.request_cancellation(uow, order_id, actor="alice")

    commands.close_order(uow, order_id, OrderStatus.COMPLETED, process_instance_key=7)

    settled = db.cancellation_of(db.get_order(uow.session, order_id))
    assert (status(uow, order_id), settled.outcome) == (OrderStatus.COMPLETED, CancelOutcome.REFUSED)
    assert settled.reason and settled.decided_at is not None
    assert event_types(uow, order_id)[-2:] == [OrderCompleted.event_type, OrderCancellationRefused.event_type]


def test_closing_again_with_the_same_status_writes_nothing_more(uow):
    order_id = placed(uow)
    commands.close_order(uow, order_id, OrderStatus.COMPLETED, process_instance_key=7)
    written = (event_types(uow, order_id), timeline(uow, order_id))

    commands.close_order(uow, order_id, OrderStatus.COMPLETED, process_instance_key=7)

    assert (event_types(uow, order_id), timeline(uow, order_id)) == written
    with pytest.raises(UnknownOrder):
        commands.close_order(uow, "no-such-order", OrderStatus.COMPLETED, process_instance_key=7)
