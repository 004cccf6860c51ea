import pytest

from services.warehouse.domain import (
    BackorderAllocation,
    BackorderStatus,
    OpenBackorder,
    ReservationState,
    ReservationStatus,
    ShipmentStatus,
    StockLevel,
    all_allocated,
    outstanding_reservations,
    receive_arrival,
)

ALLOCATED, OPEN, WITHDRAWN = BackorderStatus.ALLOCATED, BackorderStatus.OPEN, BackorderStatus.WITHDRAWN


def test_an_arrival_fills_the_oldest_backorders_first_and_keeps_the_rest_as_free_stock():
    arrival = receive_arrival(10, [OpenBackorder("b1", "o1", 3), OpenBackorder("b2", "o2", 4)])
    assert arrival.allocations == [BackorderAllocation("b1", "o1", 3, completes_backorder=True),
                                   BackorderAllocation("b2", "o2", 4, completes_backorder=True)]
    assert (arrival.on_hand_change, arrival.reserved_change) == (3, 7)


def test_applying_an_arrival_moves_the_allocated_units_into_reserved_stock():
    level = StockLevel("A", on_hand=1, reserved=2)
    receive_arrival(10, [OpenBackorder("b1", "o1", 3), OpenBackorder("b2", "o2", 4)]).apply_to(level)
    assert (level.on_hand, level.reserved) == (4, 9)


def test_a_backorder_is_complete_only_when_the_arrival_covers_all_it_still_misses():
    arrival = receive_arrival(5, [OpenBackorder("b1", "o1", 3), OpenBackorder("b2", "o2", 4)])
    assert arrival.allocations == [BackorderAllocation("b1", "o1", 3, completes_backorder=True),
                                   BackorderAllocation("b2", "o2", 2, completes_backorder=False)]
    assert arrival.orders_with_completed_backorder == ["o1"]
    assert (arrival.on_hand_change, arrival.reserved_change) == (0, 5)


def test_an_arrival_too_small_for_the_oldest_backorder_is_all_reserved_for_it_and_completes_nothing():
    level = StockLevel("A", on_hand=0)
    arrival = receive_arrival(2, [OpenBackorder("b1", "o1", 5), OpenBackorder("b2", "o2", 1)])
    arrival.apply_to(level)
    assert arrival.allocations == [BackorderAllocation("b1", "o1", 2, completes_backorder=False)]
    assert arrival.orders_with_completed_backorder == []
    assert (level.on_hand, level.reserved) == (0, 2)


def test_with_no_backorder_waiting_the_whole_arrival_becomes_free_stock():
    level = StockLevel("A", on_hand=4, reserved=1)
    arrival = receive_arrival(6, [])
    arrival.apply_to(level)
    assert arrival.allocations == []
    assert (level.on_hand, level.reserved) == (10, 1)


def test_an_order_is_fully_allocated_only_when_none_of_its_backorders_is_still_open():
    arrival = receive_arrival(4, [OpenBackorder("b1", "o1", 2), OpenBackorder("b2", "o2", 2)])
    fully_allocated = arrival.fully_allocated_orders({"o1": [ALLOCATED, OPEN], "o2": [ALLOCATED, ALLOCATED]})
    assert fully_allocated == ["o2"]


def test_a_withdrawn_backorder_does_not_keep_an_order_waiting():
    arrival = receive_arrival(2, [OpenBackorder("b1", "o1", 2)])
    assert arrival.fully_allocated_orders({"o1": [ALLOCATED, WITHDRAWN]}) == ["o1"]


def test_an_order_whose_backorder_is_only_partly_filled_is_not_fully_allocated():
    arrival = receive_arrival(1, [OpenBackorder("b1", "o1", 2)])
    assert arrival.fully_allocated_orders({}) == []


@pytest.mark.parametrize("statuses, allocated", [
    ([ALLOCATED, ALLOCATED], True),
    ([ALLOCATED, OPEN], False),
    ([OPEN], False),
    ([ALLOCATED, WITHDRAWN], True),
    ([], True),  # nothing was backordered: the order waits for nothing
])
def test_the_process_check_asks_the_same_question_an_arrival_answers_with_stock_allocated(statuses, allocated):
    assert all_allocated(statuses) is allocated
    arrival = receive_arrival(1, [OpenBackorder("b1", "o1", 1)])
    assert arrival.fully_allocated_orders({"o1": statuses}) == (["o1"] if allocated else [])


def test_fully_allocated_orders_come_in_the_order_their_backorders_were_filled():
    arrival = receive_arrival(3, [OpenBackorder("b2", "o2", 1), OpenBackorder("b1", "o1", 1),
                                  OpenBackorder("b3", "o3", 1)])
    statuses = {"o1": [ALLOCATED], "o2": [ALLOCATED], "o3": [ALLOCATED]}
    assert arrival.fully_allocated_orders(statuses) == ["o2", "o1", "o3"]


def test_outstanding_reservations_are_the_reserved_but_not_yet_picked_units_per_sku():
    reservations = [
        ReservationState("A", reserved=5, picked=2, status=ReservationStatus.RESERVED),
        ReservationState("B", reserved=3, picked=3, status=ReservationStatus.RESERVED),
        ReservationState("C", reserved=0, picked=0, status=ReservationStatus.RESERVED),
        ReservationState("D", reserved=4, picked=0, status=ReservationStatus.RESERVED),
    ]
    assert outstanding_reservations(reservations) == [("A", 3), ("D", 4)]


def test_released_reservations_are_never_outstanding():
    reservations = [ReservationState("A", reserved=5, picked=1, status=ReservationStatus.RELEASED)]
    assert outstanding_reservations(reservations) == []


@pytest.mark.parametrize("status_type, stored", [
    (ReservationStatus, {"reserved", "released"}),
    (BackorderStatus, {"OPEN", "ALLOCATED", "WITHDRAWN"}),
    (ShipmentStatus, {"PACKED", "RETURNED"}),
])
def test_statuses_are_the_strings_already_stored_in_the_database(status_type, stored):
    assert {str(status) for status in status_type} == stored
    assert all(status_type(value) == value for value in stored)
