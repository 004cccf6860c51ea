"""What an order may ask for: SKUs in the catalog, and no more units than its limits (services/order/domain.py)."""
import pytest

from services.order.domain import (
    ImplausibleReport,
    InvalidOrder,
    LineProblem,
    OrderLimits,
    OrderLine,
    OrderLinesRefused,
    check_lines,
    check_listing,
)

LIMITS = OrderLimits(max_units_per_line=10, max_units_per_order=25)
LISTED = {"KB-101", "MS-202", "MN-303"}


def refused(items: list[OrderLine], listed: set[str] = LISTED, limits: OrderLimits = LIMITS) -> list[LineProblem]:
    with pytest.raises(OrderLinesRefused) as refusal:
        check_lines(items, listed, limits)
    return refusal.value.problems


def test_listed_skus_within_the_limits_pass():
    check_lines([OrderLine("KB-101", 10), OrderLine("MS-202", 10), OrderLine("MN-303", 5)], LISTED, LIMITS)


def test_a_sku_not_in_the_catalog_is_refused_naming_its_item_and_the_sku():
    assert refused([OrderLine("KB-101", 1), OrderLine("NO-SUCH", 1)]) == [
        LineProblem(1, "sku", "NO-SUCH is not in the catalog")]


def test_every_item_at_fault_is_named_and_the_message_says_where():
    with pytest.raises(InvalidOrder) as refusal:
        check_lines([OrderLine("X-1", 1), OrderLine("KB-101", 1), OrderLine("X-2", 1)], LISTED, LIMITS)
    assert [(p.index, p.field) for p in refusal.value.problems] == [(0, "sku"), (2, "sku")]
    assert str(refusal.value) == "items.0.sku: X-1 is not in the catalog; items.2.sku: X-2 is not in the catalog"


def test_a_sku_is_looked_up_as_the_order_stores_it_without_surrounding_spaces():
    check_lines([OrderLine(" KB-101 ", 1)], LISTED, LIMITS)


def test_more_units_of_one_sku_than_a_line_takes_are_refused():
    assert refused([OrderLine("KB-101", 11)]) == [
        LineProblem(0, "quantity", "11 units of KB-101; an order takes at most 10 of one SKU")]


def test_splitting_a_sku_over_several_items_does_not_get_round_its_limit():
    """100 items of 10,000 units of one SKU once took all its free stock and asked the factory for a million."""
    problems = refused([OrderLine("KB-101", 6), OrderLine("MS-202", 1), OrderLine("KB-101", 5)])
    assert problems == [LineProblem(2, "quantity", "11 units of KB-101; an order takes at most 10 of one SKU")]


def test_more_units_in_all_than_an_order_takes_are_refused_at_the_item_that_goes_over():
    problems = refused([OrderLine("KB-101", 10), OrderLine("MS-202", 10), OrderLine("MN-303", 6)])
    assert problems == [LineProblem(2, "quantity", "26 units in the order by this item; an order takes at most 25")]


def test_a_line_and_the_order_over_their_limits_at_once_are_both_named():
    assert [(p.index, p.field) for p in refused([OrderLine("KB-101", 26)])] == [(0, "quantity"), (0, "quantity")]


@pytest.mark.parametrize("sku, name", [("", "nameless"), ("X" * 101, "too long"), ("KB\x00101", "nul"),
                                       ("KB-101", "bell\x07")])
def test_a_listing_the_order_could_not_keep_is_an_implausible_report(sku, name):
    with pytest.raises(ImplausibleReport):
        check_listing(sku, name)


def test_a_listing_of_a_sku_as_long_as_an_order_line_allows_is_kept():
    check_listing("X" * 100, "27-inch monitor")
