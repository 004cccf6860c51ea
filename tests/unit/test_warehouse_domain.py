import pytest

from services.warehouse.domain import (
    OpenBackorder,
    ReservationOutcome,
    StockLevel,
    UnknownSku,
    allocate_arrival,
    outcome,
    pick,
    release,
    reserve,
)


def stock(**on_hand):
    return {sku: StockLevel(sku, quantity) for sku, quantity in on_hand.items()}


def test_full_reservation_moves_units_from_on_hand_to_reserved():
    levels = stock(A=5, B=2)
    result = reserve([("A", 3), ("B", 2)], levels)
    assert outcome(result) is ReservationOutcome.FULL
    assert (levels["A"].on_hand, levels["A"].reserved) == (2, 3)
    assert (levels["B"].on_hand, levels["B"].reserved) == (0, 2)


def test_partial_reservation_takes_what_is_free_and_reports_what_is_missing():
    levels = stock(A=1, B=0)
    result = reserve([("A", 3), ("B", 2)], levels)
    assert outcome(result) is ReservationOutcome.PARTIAL
    assert [(r.sku, r.reserved, r.missing) for r in result] == [("A", 1, 2), ("B", 0, 2)]


def test_nothing_free_means_no_reservation():
    assert outcome(reserve([("A", 1)], stock(A=0))) is ReservationOutcome.NONE


def test_unknown_sku_is_rejected_before_anything_is_reserved():
    levels = stock(A=5)
    with pytest.raises(UnknownSku, match="NOPE"):
        reserve([("A", 1), ("NOPE", 1)], levels)
    assert levels["A"].on_hand == 5


def test_picking_cannot_take_more_than_is_reserved():
    levels = {"A": StockLevel("A", on_hand=0, reserved=2)}
    pick([("A", 2)], levels)
    assert levels["A"].reserved == 0
    with pytest.raises(ValueError, match="only 0 reserved"):
        pick([("A", 1)], levels)


def test_arrivals_go_to_the_oldest_backorders_first_and_never_beyond_what_arrived():
    waiting = [OpenBackorder("b1", "o1", 3), OpenBackorder("b2", "o2", 4), OpenBackorder("b3", "o3", 1)]
    assert [(b.id, n) for b, n in allocate_arrival(5, waiting)] == [("b1", 3), ("b2", 2)]
    assert allocate_arrival(0, waiting) == []
    assert [(b.id, n) for b, n in allocate_arrival(100, waiting)] == [("b1", 3), ("b2", 4), ("b3", 1)]


def test_released_units_return_to_free_stock():
    levels = {"A": StockLevel("A", on_hand=1, reserved=3)}
    release([("A", 2)], levels, from_reserved=True)
    assert (levels["A"].on_hand, levels["A"].reserved) == (3, 1)
    release([("A", 4)], levels, from_reserved=False)  # a returned shipment
    assert (levels["A"].on_hand, levels["A"].reserved) == (7, 1)
