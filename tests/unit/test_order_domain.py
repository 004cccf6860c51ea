import pytest

from services.order.domain import (IdempotencyConflict, InvalidOrder, OrderLine, OrderStatus, advance,
                                   check_idempotent_retry, normalise_lines, request_fingerprint)


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


def test_status_only_moves_forward():
    assert advance(OrderStatus.PACKED, OrderStatus.RESERVED) is OrderStatus.PACKED
    assert advance(OrderStatus.RESERVED, OrderStatus.IN_DELIVERY) is OrderStatus.IN_DELIVERY


def test_a_completed_order_stays_completed():
    assert advance(OrderStatus.COMPLETED, OrderStatus.DELIVERED) is OrderStatus.COMPLETED


def test_fingerprint_ignores_key_order_but_not_content():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_reusing_an_idempotency_key_for_another_request_is_a_conflict():
    check_idempotent_retry("same", "same")
    with pytest.raises(IdempotencyConflict):
        check_idempotent_retry("first", "second")
