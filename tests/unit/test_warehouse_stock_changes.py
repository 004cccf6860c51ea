"""Operators' stock changes and the refusals no retry can fix: the Warehouse's rules, without I/O."""
import pytest

from services.warehouse.api import if_match_versions
from services.warehouse.domain import (
    MAX_UNITS_PER_SKU,
    InvalidLines,
    NotEnoughFreeStock,
    OpenBackorder,
    StaleCount,
    StockLevel,
    StockLimitExceeded,
    counted_change,
    receive_arrival,
    reserve,
    take_out,
)


def test_a_count_made_against_the_current_version_changes_free_stock_by_the_difference():
    level = StockLevel("A", on_hand=5, reserved=2, version=7)
    assert counted_change(level, 9, frozenset({7})) == 4
    assert counted_change(level, 1, frozenset({6, 7})) == -4


def test_a_count_made_against_an_older_version_is_refused_with_what_the_stock_is_now():
    level = StockLevel("A", on_hand=3, reserved=2, version=8)  # a reservation of 2 came after the count
    with pytest.raises(StaleCount, match=r"A changed since it was counted \(now version 8, 3 free, 2 reserved\)"):
        counted_change(level, 5, frozenset({7}))


def test_a_count_against_whatever_is_there_now_is_never_stale():
    assert counted_change(StockLevel("A", on_hand=3, version=8), 5, None) == 2


def test_units_can_be_taken_out_of_free_stock_only():
    level = StockLevel("A", on_hand=3, reserved=2)
    with pytest.raises(NotEnoughFreeStock, match="cannot remove 4 units: only 3 are free, 2 are reserved for orders"):
        take_out(level, 4)
    assert (level.on_hand, level.reserved) == (3, 2)
    take_out(level, 3)
    assert (level.on_hand, level.reserved) == (0, 2)


def test_an_arrival_beyond_what_one_sku_can_hold_is_refused_before_it_changes_anything():
    level = StockLevel("A", on_hand=10, reserved=5)
    with pytest.raises(StockLimitExceeded, match="A: 1,000,000,000 more units would put more than 1,000,000,000"):
        receive_arrival(MAX_UNITS_PER_SKU, [OpenBackorder("b1", "o1", 3)]).apply_to(level)
    assert (level.on_hand, level.reserved) == (10, 5)
    receive_arrival(MAX_UNITS_PER_SKU - 15, []).apply_to(level)
    assert level.on_hand + level.reserved == MAX_UNITS_PER_SKU


def test_an_arrival_names_each_order_it_gives_units_to_once_in_the_order_it_fills_them():
    arrival = receive_arrival(5, [OpenBackorder("b2", "o2", 1), OpenBackorder("b1", "o1", 1),
                                  OpenBackorder("b3", "o2", 1), OpenBackorder("b4", "o3", 9)])
    assert arrival.orders == ["o2", "o1", "o3"]


@pytest.mark.parametrize("lines, complaint", [
    ([("A", 1), ("B", 1), ("A", 2)], "each sku may appear on one line only: A appears more than once"),
    ([("A", MAX_UNITS_PER_SKU + 1)], "more than 1,000,000,000 units requested of A"),
])
def test_order_lines_that_cannot_be_stored_are_refused_before_anything_is_reserved(lines, complaint):
    levels = {"A": StockLevel("A", on_hand=5), "B": StockLevel("B", on_hand=5)}
    with pytest.raises(InvalidLines, match=complaint):
        reserve(lines, levels)
    assert [level.on_hand for level in levels.values()] == [5, 5]


@pytest.mark.parametrize("if_match, versions", [
    ('"7"', {7}),
    ('"7", "12"', {7, 12}),
    ('*', None),
    ('"7", *', None),
    ('W/"7"', set()),  # a weak tag never matches: If-Match compares strongly
    ('7', set()),
    ('"seven"', set()),
])
def test_if_match_names_the_versions_a_count_was_made_against(if_match, versions):
    assert if_match_versions(if_match) == (None if versions is None else frozenset(versions))
