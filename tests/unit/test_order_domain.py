import pytest

from services.order.domain import (
    IdempotencyConflict,
    InvalidOrder,
    NotCancellable,
    OrderLine,
    OrderStatus,
    Progress,
    ShipmentStage,
    check_cancellable,
    check_idempotent_retry,
    later_stage,
    normalise_lines,
    request_fingerprint,
    status_of,
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


@pytest.mark.parametrize("progress, status", [
    (Progress(), OrderStatus.PLACED),
    (Progress(reserved=True), OrderStatus.RESERVED),
    (Progress(backorder_open=True), OrderStatus.AWAITING_STOCK),
    (Progress(reserved=True, backorder_open=True), OrderStatus.AWAITING_STOCK),
    (Progress(reserved=True, backorder_open=True, shipments=(ShipmentStage.DELIVERED,)), OrderStatus.PARTIALLY_SHIPPED),
    (Progress(reserved=True, shipments=(ShipmentStage.PACKED,)), OrderStatus.PACKED),
    (Progress(reserved=True, shipments=(ShipmentStage.DELIVERED, ShipmentStage.IN_DELIVERY)), OrderStatus.IN_DELIVERY),
    (Progress(reserved=True, shipments=(ShipmentStage.DELIVERED, ShipmentStage.DELIVERED)), OrderStatus.DELIVERED),
    (Progress(reserved=True, shipments=(ShipmentStage.DELIVERED,), final=OrderStatus.COMPLETED), OrderStatus.COMPLETED),
])
def test_status_follows_from_what_was_reported(progress, status):
    assert status_of(progress) is status


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


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.AWAITING_STOCK, OrderStatus.PACKED,
                                    OrderStatus.IN_DELIVERY, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.CANCELLED])
def test_an_order_can_be_cancelled_until_it_is_delivered(status):
    check_cancellable(status)


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.DELIVERY_FAILED])
def test_a_delivered_or_ended_order_cannot_be_cancelled(status):
    with pytest.raises(NotCancellable):
        check_cancellable(status)


def test_an_order_waiting_for_stock_or_a_courier_is_waiting_not_stalled():
    assert waiting_for(backorder_open=True, stages=[]) == "stock for an open backorder"
    assert waiting_for(backorder_open=False, stages=[ShipmentStage.DELIVERED, ShipmentStage.IN_DELIVERY])
    assert waiting_for(backorder_open=False, stages=[]) is None  # reserving or starting: it should move
    assert waiting_for(backorder_open=False, stages=[ShipmentStage.PACKED]) is None
