from datetime import datetime, timedelta, timezone

import pytest

from services.order.db import OPEN_SQL
from services.order.domain import (
    FINAL_STATUSES,
    Cancellation,
    CancelOutcome,
    IdempotencyConflict,
    ImplausibleReport,
    InvalidOrder,
    OrderLine,
    OrdersStillOpen,
    OrderStatus,
    Progress,
    Report,
    Shipment,
    ShipmentStage,
    answer_cancel_request,
    check_id,
    check_idempotent_retry,
    check_printable,
    later_stage,
    normalise_lines,
    orders_to_erase,
    request_fingerprint,
    settle_cancellation,
    status_of,
    take_in,
    waiting_for,
)


def test_lines_of_the_same_sku_are_merged_in_first_seen_order():
    lines = normalise_lines([OrderLine("B", 1), OrderLine("A", 2), OrderLine("B", 3)])
    assert lines == [OrderLine("B", 4), OrderLine("A", 2)]


@pytest.mark.parametrize("lines, reason", [
    ([], "at least one item"),
    ([OrderLine(" ", 1)], "sku"),
    ([OrderLine("A", 0)], "positive"),
])
def test_invalid_lines_are_rejected_with_a_reason(lines, reason):
    with pytest.raises(InvalidOrder, match=reason):
        normalise_lines(lines)


PACKED, IN_DELIVERY, DELIVERED = ShipmentStage.PACKED, ShipmentStage.IN_DELIVERY, ShipmentStage.DELIVERED


def progress(units_ordered: int = 5, **facts) -> Progress:
    return Progress(units_ordered=units_ordered, **facts)


@pytest.mark.parametrize("facts, status", [
    (progress(), OrderStatus.PLACED),
    (progress(reserved=True), OrderStatus.RESERVED),
    (progress(backorder_open=True), OrderStatus.AWAITING_STOCK),
    (progress(reserved=True, backorder_open=True), OrderStatus.AWAITING_STOCK),
    (progress(reserved=True, backorder_open=True, shipments=(Shipment(PACKED, 3),)), OrderStatus.PARTIALLY_SHIPPED),
    (progress(reserved=True, shipments=(Shipment(PACKED, 5),)), OrderStatus.PACKED),
    (progress(reserved=True, shipments=(Shipment(PACKED, 2), Shipment(IN_DELIVERY, 3))), OrderStatus.PACKED),
    (progress(reserved=True, shipments=(Shipment(IN_DELIVERY, 2), Shipment(IN_DELIVERY, 3))), OrderStatus.IN_DELIVERY),
    (progress(reserved=True, shipments=(Shipment(DELIVERED, 2), Shipment(IN_DELIVERY, 3))),
     OrderStatus.PARTIALLY_DELIVERED),
    (progress(reserved=True, shipments=(Shipment(DELIVERED, 2), Shipment(DELIVERED, 3))), OrderStatus.DELIVERED),
    (progress(reserved=True, shipments=(Shipment(DELIVERED, 5),), final=OrderStatus.COMPLETED), OrderStatus.COMPLETED),
])
def test_status_follows_from_what_was_reported(facts, status):
    assert status_of(facts) is status


def test_a_delivered_first_shipment_with_the_backorder_still_open_is_partially_delivered():
    facts = progress(reserved=True, backorder_open=True, shipments=(Shipment(DELIVERED, 2),))
    assert status_of(facts) is OrderStatus.PARTIALLY_DELIVERED


def test_an_order_whose_backorder_arrived_but_was_never_packed_is_not_delivered():
    """Seen on the stack: stock allocated, the second shipment's packing stuck, the first delivered."""
    facts = progress(reserved=True, backorder_open=False, shipments=(Shipment(DELIVERED, 2),))
    assert status_of(facts) is OrderStatus.PARTIALLY_DELIVERED


def test_a_packed_shipment_that_leaves_units_unpacked_is_a_partial_shipment_even_without_a_backorder():
    facts = progress(reserved=True, shipments=(Shipment(IN_DELIVERY, 2),))
    assert status_of(facts) is OrderStatus.PARTIALLY_SHIPPED


def test_a_delivery_heard_of_before_its_packing_does_not_count_as_the_whole_order():
    """Delivery events travel on another topic than packing: the units may not be known yet."""
    facts = progress(reserved=True, shipments=(Shipment(DELIVERED),))
    assert status_of(facts) is OrderStatus.PARTIALLY_DELIVERED
    packed, _ = take_in(facts, {"s-1": Shipment(DELIVERED)}, Report(shipment=("s-1", Shipment(PACKED, 5))))
    assert status_of(packed) is OrderStatus.DELIVERED


def test_a_shipment_keeps_its_units_and_its_furthest_stage_whatever_order_its_reports_come_in():
    reports = [Report(shipment=("s-1", Shipment(DELIVERED))), Report(shipment=("s-1", Shipment(PACKED, 5))),
               Report(shipment=("s-1", Shipment(IN_DELIVERY)))]
    facts, shipments = progress(reserved=True), {}
    for report in reports:
        facts, shipments = take_in(facts, shipments, report)
    assert shipments == {"s-1": Shipment(DELIVERED, 5)}
    assert status_of(facts) is OrderStatus.DELIVERED


def test_a_final_status_stays_whatever_is_reported_later():
    facts, shipments = take_in(progress(), {}, Report(final=OrderStatus.CANCELLED))
    facts, _ = take_in(facts, shipments, Report(shipment=("s-1", Shipment(DELIVERED, 5))))
    assert status_of(facts) is OrderStatus.CANCELLED


@pytest.mark.parametrize("shipment_id, complaint", [
    ("s" * 37, "got 37"),
    ("", "got 0"),
    ("ship\x00ment", "printable"),
])
def test_a_shipment_id_the_read_model_cannot_store_is_an_implausible_report(shipment_id, complaint):
    with pytest.raises(ImplausibleReport, match=complaint):
        take_in(progress(), {}, Report(shipment=(shipment_id, Shipment(PACKED, 1))))


def test_shipments_carrying_more_units_than_were_ordered_are_an_implausible_report():
    facts, shipments = take_in(progress(units_ordered=5), {}, Report(shipment=("s-1", Shipment(PACKED, 3))))
    with pytest.raises(ImplausibleReport, match="6 units, but it has only 5"):
        take_in(facts, shipments, Report(shipment=("s-2", Shipment(PACKED, 3))))


def test_an_over_long_id_is_shown_shortened_in_the_complaint():
    with pytest.raises(ImplausibleReport) as raised:
        check_id("order id", "x" * 5000)
    assert len(str(raised.value)) < 200 and "got 5000" in str(raised.value)


def test_timeline_text_of_any_length_is_accepted_but_control_characters_are_not():
    check_printable("backordered " + ", ".join(f"2x SKU-{n}" for n in range(100)))
    with pytest.raises(ImplausibleReport, match="control characters"):
        check_printable("delivery d-1 handed to courier\x00")


def test_a_shipment_stage_only_moves_forward():
    assert later_stage(ShipmentStage.IN_DELIVERY, ShipmentStage.PACKED) is ShipmentStage.IN_DELIVERY
    assert later_stage(None, ShipmentStage.PACKED) is ShipmentStage.PACKED
    assert later_stage(ShipmentStage.PACKED, ShipmentStage.DELIVERED) is ShipmentStage.DELIVERED


def test_fingerprint_ignores_key_order_but_not_content():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_reusing_an_idempotency_key_for_another_request_is_a_conflict():
    check_idempotent_retry("same", "same")
    with pytest.raises(IdempotencyConflict):
        check_idempotent_retry("first", "second")


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=5)


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.AWAITING_STOCK, OrderStatus.PACKED,
                                    OrderStatus.IN_DELIVERY, OrderStatus.PARTIALLY_SHIPPED,
                                    OrderStatus.PARTIALLY_DELIVERED])
def test_a_cancellation_before_delivery_is_pending_until_the_process_ends_the_order(status):
    assert answer_cancel_request(status, None, NOW) == Cancellation(NOW, CancelOutcome.PENDING)


@pytest.mark.parametrize("status, reason", [
    (OrderStatus.DELIVERED, "delivered"),
    (OrderStatus.COMPLETED, "delivered"),
    (OrderStatus.DELIVERY_FAILED, "delivery failed"),
])
def test_a_cancellation_of_a_delivered_or_ended_order_is_refused_at_once_with_the_reason(status, reason):
    refused = answer_cancel_request(status, None, NOW)
    assert (refused.outcome, refused.decided_at) == (CancelOutcome.REFUSED, NOW)
    assert reason in refused.reason


def test_cancelling_an_order_a_person_already_cancelled_is_cancelled_at_once():
    assert answer_cancel_request(OrderStatus.CANCELLED, None, NOW).outcome is CancelOutcome.CANCELLED


def test_asking_again_gives_the_first_answer():
    pending = Cancellation(NOW)
    assert answer_cancel_request(OrderStatus.IN_DELIVERY, pending, LATER) is pending
    refused = Cancellation(NOW, CancelOutcome.REFUSED, "too late", NOW)
    assert answer_cancel_request(OrderStatus.COMPLETED, refused, LATER) is refused


@pytest.mark.parametrize("final, outcome, reason", [
    (OrderStatus.CANCELLED, CancelOutcome.CANCELLED, None),
    (OrderStatus.COMPLETED, CancelOutcome.REFUSED, "delivered before the cancellation"),
    (OrderStatus.DELIVERY_FAILED, CancelOutcome.REFUSED, "delivery failed first"),
])
def test_a_pending_cancellation_is_settled_by_how_the_order_ends(final, outcome, reason):
    settled = settle_cancellation(Cancellation(NOW), final, LATER)
    assert (settled.requested_at, settled.outcome, settled.decided_at) == (NOW, outcome, LATER)
    assert (reason is None and settled.reason is None) or reason in settled.reason


def test_an_order_that_ends_without_a_pending_cancellation_settles_nothing():
    assert settle_cancellation(None, OrderStatus.COMPLETED, LATER) is None
    decided = Cancellation(NOW, CancelOutcome.REFUSED, "too late", NOW)
    assert settle_cancellation(decided, OrderStatus.COMPLETED, LATER) is None

def test_an_order_waiting_for_stock_or_a_courier_is_waiting_not_stalled():
    assert waiting_for(backorder_open=True, stages=[]) == "stock for an open backorder"
    assert waiting_for(backorder_open=False, stages=[ShipmentStage.DELIVERED, ShipmentStage.IN_DELIVERY])
    assert waiting_for(backorder_open=False, stages=[]) is None  # reserving or starting: it should move
    assert waiting_for(backorder_open=False, stages=[ShipmentStage.PACKED]) is None


def test_personal_data_goes_from_every_final_order_not_yet_erased():
    orders = {"a": (OrderStatus.COMPLETED, False), "b": (OrderStatus.CANCELLED, True),
              "c": (OrderStatus.DELIVERY_FAILED, False)}
    assert orders_to_erase(orders) == ["a", "c"]
    assert orders_to_erase({}) == []


def test_personal_data_stays_while_an_order_still_needs_the_address():
    orders = {"a": (OrderStatus.COMPLETED, False), "b": (OrderStatus.IN_DELIVERY, False),
              "c": (OrderStatus.PLACED, False)}
    with pytest.raises(OrdersStillOpen, match="2 order\\(s\\) not final yet.*b, c") as refused:
        orders_to_erase(orders)
    assert refused.value.order_ids == ["b", "c"]


def test_the_sql_literal_of_an_open_order_leaves_out_exactly_the_final_statuses():
    assert OPEN_SQL == f"status NOT IN ({', '.join(repr(str(s)) for s in sorted(FINAL_STATUSES))})"
