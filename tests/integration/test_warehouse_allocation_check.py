"""The process's allocation check (warehouse.check-allocation) against a real PostgreSQL.

It must answer yes exactly when the Warehouse has sent, or would have sent, `stock-allocated`,
for as long as the order lives: the message expires, the backorders do not.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from services.warehouse import commands
from services.warehouse.domain import UnknownOrder
from shared.contracts.registry import WAREHOUSE
from shared.contracts.warehouse import STOCK_ALLOCATED, ReservationOutcome
from shared.runtime.db import unit_of_work
from shared.runtime.outbox import UnitOfWork
from tests.integration.test_warehouse_concurrency import new_sku, reserved_order


def allocated(sessions, order_id: str) -> bool:
    with unit_of_work(sessions) as session:
        return commands.stock_allocated(UnitOfWork(session, WAREHOUSE), order_id)


def arrive(sessions, sku: str, quantity: int) -> None:
    with unit_of_work(sessions) as session:
        commands.receive_produced_items(UnitOfWork(session, WAREHOUSE), sku, quantity)


def stock_allocated_sent(sessions, order_id: str) -> bool:
    with sessions.connect() as session:
        return session.execute(text("SELECT count(*) FROM outbox WHERE destination = 'zeebe' AND topic = :name "
                                    "AND key = :id"), {"name": STOCK_ALLOCATED.name, "id": order_id}).scalar() > 0


def test_the_check_says_yes_exactly_when_the_last_backorder_of_the_order_is_allocated(warehouse_sessions):
    short, shorter = new_sku(warehouse_sessions, on_hand=1), new_sku(warehouse_sessions, on_hand=0)
    order_id = reserved_order(warehouse_sessions, [(short, 3), (shorter, 1)], ReservationOutcome.PARTIAL)
    assert not allocated(warehouse_sessions, order_id)

    arrive(warehouse_sessions, short, 1)  # part of one backorder
    arrive(warehouse_sessions, shorter, 1)  # all of the other
    assert not allocated(warehouse_sessions, order_id) and not stock_allocated_sent(warehouse_sessions, order_id)

    arrive(warehouse_sessions, short, 1)  # the last missing unit
    assert allocated(warehouse_sessions, order_id) and stock_allocated_sent(warehouse_sessions, order_id)
    assert allocated(warehouse_sessions, order_id), "asking again gives the same answer"


def test_an_order_reserved_in_full_waits_for_nothing(warehouse_sessions):
    order_id = reserved_order(warehouse_sessions, [(new_sku(warehouse_sessions, on_hand=2), 2)],
                              ReservationOutcome.FULL)
    assert allocated(warehouse_sessions, order_id)


def test_an_order_whose_stock_was_released_is_never_allocated(warehouse_sessions):
    sku = new_sku(warehouse_sessions, on_hand=0)
    order_id = reserved_order(warehouse_sessions, [(sku, 2)], ReservationOutcome.NONE)
    with unit_of_work(warehouse_sessions) as session:
        commands.release_stock(UnitOfWork(session, WAREHOUSE), order_id, [])
    arrive(warehouse_sessions, sku, 2)
    assert not allocated(warehouse_sessions, order_id)


def test_the_check_refuses_an_order_the_warehouse_never_reserved_for(warehouse_sessions):
    with pytest.raises(UnknownOrder, match="no stock was reserved for order no-such-order"):
        allocated(warehouse_sessions, "no-such-order")
