"""The Warehouse's use cases and what they decide: what an order gets reserved (all, part, nothing) and asks the
factory for, and which waiting orders arriving units go to. Each step commits, as each is its own transaction."""
from __future__ import annotations

import uuid

import pytest

from services.warehouse import commands, db
from services.warehouse.domain import InvalidLines, LineReservation, UnknownSku
from shared.contracts.warehouse import (
    SERVICE,
    STOCK_ALLOCATED,
    ReplenishmentRequested,
    ReservationOutcome,
    StockAllocated,
    StockReserved,
)
from shared.runtime.outbox import UnitsOfWork
from tests.integration.in_process.conftest import events_of, messages_of, module_database


class Warehouse:
    """The use cases as the job workers and consumers call them, one unit of work each. Its SKUs and orders are the
    test's own (their names carry the test's tag), so the tests of this module share one database."""

    def __init__(self, sessions, tag: str) -> None:
        self.sessions = sessions
        self.units = UnitsOfWork(sessions, SERVICE)
        self.tag = tag

    def _id(self, name: str) -> str:
        return f"{name}-{self.tag}"

    def sku(self, name: str, on_hand: int) -> str:
        sku = self._id(name)
        with self.units() as uow:
            assert commands.add_sku(uow, sku, f"{name} item", on_hand, actor="olivia")
        return sku

    def reserve(self, order: str, *lines: tuple[str, int]):
        with self.units() as uow:
            return commands.reserve_stock(uow, self._id(order), list(lines))

    def release(self, order: str) -> None:
        with self.units() as uow:
            commands.release_stock(uow, self._id(order), [])

    def arrive(self, sku: str, quantity: int) -> list[str]:
        """The orders the arrival completed."""
        with self.units() as uow:
            return [order_id.removesuffix(f"-{self.tag}")
                    for order_id in commands.receive_produced_items(uow, sku, quantity)]

    def level(self, sku: str) -> tuple[int, int]:
        """Free and reserved units."""
        with self.sessions.connect() as session:
            item = db.stock_item(session, sku)
        return item.on_hand, item.reserved

    def backorders(self, order: str) -> list[tuple[str, int, int, str]]:
        with self.sessions.connect() as session:
            return [(b.sku, b.quantity, b.allocated, b.status) for b in db.backorders_of(session, self._id(order))]

    def events(self, order: str, event_type: str | None = None) -> list[dict]:
        return [data for kind, data in events_of(self.sessions, self._id(order)) if event_type in (None, kind)]

    def messages(self, order: str) -> list[tuple[str, str]]:
        """Name and id of each Zeebe message for the order, the id with the order's name in place of its id."""
        return [(name, m["message_id"].replace(self._id(order), order))
                for name, m in messages_of(self.sessions, self._id(order))]


warehouse_database = module_database("warehouse")


@pytest.fixture
def warehouse(warehouse_database):
    return Warehouse(warehouse_database, uuid.uuid4().hex[:8])


def test_stock_free_for_every_line_is_reserved_in_full_and_nothing_is_asked_of_the_factory(warehouse):
    a, b = warehouse.sku("A", 5), warehouse.sku("B", 2)

    reservation = warehouse.reserve("order-1", (a, 3), (b, 2))

    assert reservation.outcome is ReservationOutcome.FULL
    assert reservation.lines == [LineReservation(a, 3, 3), LineReservation(b, 2, 2)]
    assert (warehouse.level(a), warehouse.level(b)) == ((2, 3), (0, 2))
    lines = [{"sku": a, "requested": 3, "reserved": 3}, {"sku": b, "requested": 2, "reserved": 2}]
    [reserved] = warehouse.events("order-1", StockReserved.event_type)
    assert (reserved["outcome"], reserved["lines"]) == (ReservationOutcome.FULL.value, lines)
    assert warehouse.backorders("order-1") == []
    assert warehouse.events("order-1", ReplenishmentRequested.event_type) == []


def test_what_is_missing_is_reserved_in_part_backordered_and_asked_of_the_factory_line_by_line(warehouse):
    a, b = warehouse.sku("A", 1), warehouse.sku("B", 0)

    reservation = warehouse.reserve("order-1", (a, 3), (b, 2))

    assert reservation.outcome is ReservationOutcome.PARTIAL
    assert [line.missing for line in reservation.lines] == [2, 2]
    assert (warehouse.level(a), warehouse.level(b)) == ((0, 1), (0, 0))
    backorders = warehouse.backorders("order-1")
    assert sorted((sku, quantity, status) for sku, quantity, _, status in backorders) == [(a, 2, "OPEN"),
                                                                                           (b, 2, "OPEN")]
    requested = warehouse.events("order-1", ReplenishmentRequested.event_type)
    assert sorted((r["sku"], r["quantity"]) for r in requested) == [(a, 2), (b, 2)]


def test_nothing_free_reserves_nothing_and_backorders_every_unit(warehouse):
    a = warehouse.sku("A", 0)

    reservation = warehouse.reserve("order-1", (a, 4))

    assert (reservation.outcome, reservation.lines) == (ReservationOutcome.NONE, [LineReservation(a, 4, 0)])
    assert warehouse.backorders("order-1") == [(a, 4, 0, "OPEN")]
    assert [r["quantity"] for r in warehouse.events("order-1", ReplenishmentRequested.event_type)] == [4]


def test_reserving_again_for_an_order_answers_the_first_reservation_and_takes_nothing_more(warehouse):
    a = warehouse.sku("A", 3)
    first = warehouse.reserve("order-1", (a, 4))

    assert warehouse.reserve("order-1", (a, 4)) == first
    assert warehouse.level(a) == (0, 3)
    assert len(warehouse.events("order-1", StockReserved.event_type)) == 1
    assert len(warehouse.backorders("order-1")) == 1


def test_lines_the_warehouse_cannot_reserve_are_refused_and_nothing_is_taken(warehouse):
    a = warehouse.sku("A", 3)

    with pytest.raises(UnknownSku):
        warehouse.reserve("order-1", (a, 1), ("XX-999", 1))
    with pytest.raises(InvalidLines):
        warehouse.reserve("order-2", (a, 1), (a, 1))

    assert warehouse.level(a) == (3, 0)
    assert warehouse.events("order-1") == warehouse.events("order-2") == []


def test_arriving_units_go_to_waiting_orders_first_come_first_served_and_the_rest_is_free(warehouse):
    a = warehouse.sku("A", 0)
    warehouse.reserve("first", (a, 3))
    warehouse.reserve("second", (a, 2))

    assert warehouse.arrive(a, 4) == ["first"], "the older backorder is filled first"
    assert warehouse.level(a) == (0, 4)
    assert warehouse.backorders("first") == [(a, 3, 3, "ALLOCATED")]
    assert warehouse.backorders("second") == [(a, 2, 1, "OPEN")]
    assert [e["lines"] for e in warehouse.events("first", StockAllocated.event_type)] == [[{"sku": a, "quantity": 3}]]
    assert warehouse.messages("first") == [(STOCK_ALLOCATED.name, f"{STOCK_ALLOCATED.name}:first")]
    assert warehouse.messages("second") == [], "still waiting for a unit: the process is not told"

    assert warehouse.arrive(a, 3) == ["second"]
    assert warehouse.level(a) == (2, 5), "what no order waited for is free"
    assert warehouse.arrive(a, 1) == [] and warehouse.level(a) == (3, 5)


def test_an_order_waiting_for_two_skus_is_allocated_once_the_last_one_arrives(warehouse):
    a, b = warehouse.sku("A", 0), warehouse.sku("B", 0)
    warehouse.reserve("order-1", (a, 1), (b, 1))

    assert warehouse.arrive(a, 1) == []
    assert warehouse.messages("order-1") == []
    assert warehouse.arrive(b, 1) == ["order-1"]
    [allocated] = warehouse.events("order-1", StockAllocated.event_type)
    assert sorted((line["sku"], line["quantity"]) for line in allocated["lines"]) == [(a, 1), (b, 1)]


def test_units_arriving_for_a_cancelled_order_stay_free(warehouse):
    a = warehouse.sku("A", 0)
    warehouse.reserve("order-1", (a, 2))
    warehouse.release("order-1")

    assert warehouse.arrive(a, 2) == []
    assert warehouse.level(a) == (2, 0)
    assert warehouse.backorders("order-1") == [(a, 2, 0, "WITHDRAWN")]
