"""Warehouse use cases racing each other on real PostgreSQL (a scratch database migrated like the service's).

Each race is forced, not hoped for: a lock held by the test stops one use case at a known point
while the other one runs, then the test lets go.
"""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from services.warehouse import commands
from shared.contracts.registry import WAREHOUSE
from shared.contracts.warehouse import STOCK_ALLOCATED, ReservationOutcome
from shared.runtime.db import unit_of_work
from shared.runtime.outbox import UnitOfWork
from tests.conftest import eventually
from tests.integration.conftest import waiting_for_locks


def in_own_transaction(sessions, use_case):
    with unit_of_work(sessions) as session:
        return use_case(UnitOfWork(session, WAREHOUSE))


def new_sku(sessions, on_hand: int) -> str:
    sku = f"T-{uuid.uuid4().hex[:8]}"
    with unit_of_work(sessions) as session:
        assert commands.add_sku(UnitOfWork(session, WAREHOUSE), sku, "test item", on_hand, actor="olivia")
    return sku


def reserved_order(sessions, lines: list[tuple[str, int]], outcome: ReservationOutcome) -> str:
    order_id = str(uuid.uuid4())
    with unit_of_work(sessions) as session:
        assert commands.reserve_stock(UnitOfWork(session, WAREHOUSE), order_id, lines).outcome is outcome
    return order_id


def stock_of(sessions, sku: str) -> tuple[int, int]:
    with sessions.connect() as session:
        return tuple(session.execute(text("SELECT on_hand, reserved FROM stock WHERE sku = :sku"), {"sku": sku}).one())


PICK = ("pick", lambda uow, order_id: commands.pick_and_pack(uow, order_id, 1), (0, 0))
RELEASE = ("release", lambda uow, order_id: commands.release_stock(uow, order_id, []), (2, 0))


@pytest.mark.parametrize("name, use_case, stock_after", [PICK, RELEASE], ids=["pick", "release"])
def test_an_arrival_and_a_pick_or_release_of_the_same_order_wait_for_each_other_instead_of_deadlocking(
        warehouse_sessions, name, use_case, stock_after):
    sku = new_sku(warehouse_sessions, on_hand=1)
    order_id = reserved_order(warehouse_sessions, [(sku, 2)], ReservationOutcome.PARTIAL)  # 1 reserved, 1 backordered
    with warehouse_sessions.connect() as gate, ThreadPoolExecutor(2) as pool:
        # Holding the order's backorder stops the arrival right after its first lock, the SKU's stock row.
        gate.execute(text("SELECT id FROM backorders WHERE order_id = :id FOR UPDATE"), {"id": order_id})
        arrival = pool.submit(in_own_transaction, warehouse_sessions,
                              lambda uow: commands.receive_produced_items(uow, sku, 1))
        eventually(lambda: waiting_for_locks(warehouse_sessions) == 1, what="the arrival to wait for the backorder")
        other = pool.submit(in_own_transaction, warehouse_sessions, lambda uow: use_case(uow, order_id))
        eventually(lambda: waiting_for_locks(warehouse_sessions) == 2, what=f"the {name} to wait as well")
        gate.commit()
        # Locking the order's reservations before the stock (as pick and release did) makes PostgreSQL
        # abort one of the two here with a deadlock.
        assert arrival.result(timeout=30) == [order_id], "the arrival completed the order's backorder"
        other.result(timeout=30)
    assert stock_of(warehouse_sessions, sku) == stock_after, f"the {name} came second and saw the arrived unit"


def test_two_skus_of_one_order_arriving_at_once_tell_the_order_exactly_once(warehouse_sessions):
    first_sku, second_sku = new_sku(warehouse_sessions, on_hand=0), new_sku(warehouse_sessions, on_hand=0)
    order_id = reserved_order(warehouse_sessions, [(first_sku, 1), (second_sku, 1)], ReservationOutcome.NONE)
    first = warehouse_sessions.connect()
    try:
        # The first arrival is done but not committed when the second one runs (two consumers at once).
        told_by_first = commands.receive_produced_items(UnitOfWork(first, WAREHOUSE), first_sku, 1)
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(in_own_transaction, warehouse_sessions,
                                 lambda uow: commands.receive_produced_items(uow, second_sku, 1))
            eventually(lambda: second.done() or waiting_for_locks(warehouse_sessions) == 1,
                       what="the second arrival to finish or wait for the first")
            first.commit()
            told_by_second = second.result(timeout=30)
    finally:
        first.close()

    assert told_by_first + told_by_second == [order_id], \
        "each arrival saw the other SKU's backorder still open, so nobody told the order"
    with warehouse_sessions.connect() as session:
        messages = session.execute(text("SELECT count(*) FROM outbox WHERE destination = 'zeebe' AND topic = :name "
                                        "AND key = :id"), {"name": STOCK_ALLOCATED.name, "id": order_id}).scalar()
    assert messages == 1
