import pytest

from services.warehouse.domain import (ReservationOutcome, StockLevel, UnknownSku, describe_shortage, outcome, pick,
                                       reserve)


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
    assert describe_shortage(result) == "A: 3 requested, 1 available; B: 2 requested, 0 available"


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
