"""An Idempotency-Key is the customer's own: another customer using the same key places an order of their own."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from services.order import commands
from services.order.domain import IdempotencyConflict, OrderLine
from shared.runtime.db import again_if_raced, unit_of_work
from tests.conftest import eventually
from tests.integration.conftest import place_test_order, waiting_for_locks


def place_in(session, customer_id: str, key: str, quantity: int = 1) -> commands.Placed:
    return place_test_order(session, OrderLine("SKU-1", quantity), customer_id=customer_id, idempotency_key=key)


def place(sessions, customer_id: str, key: str, quantity: int = 1) -> commands.Placed:
    with unit_of_work(sessions) as session:
        return place_in(session, customer_id, key, quantity)


def test_two_customers_with_one_key_each_get_their_own_order(order_sessions):
    alice, bob = place(order_sessions, "alice", "order-1"), place(order_sessions, "bob", "order-1")
    assert alice.created and bob.created and alice.order_id != bob.order_id
    assert place(order_sessions, "alice", "order-1") == commands.Placed(alice.order_id, created=False)
    assert place(order_sessions, "bob", "order-1") == commands.Placed(bob.order_id, created=False)


def test_a_customer_reusing_their_key_for_another_request_gets_the_conflict(order_sessions):
    place(order_sessions, "alice", "order-1")
    with pytest.raises(IdempotencyConflict):
        place(order_sessions, "alice", "order-1", quantity=2)


def test_of_two_requests_racing_with_one_key_the_loser_gets_the_winners_order(order_sessions):
    # The winner's insert is not committed yet when the loser looks the key up: the loser's insert waits on the
    # unique index, fails once the winner commits, and its second run (api.place_order's again_if_raced) finds it.
    with ThreadPoolExecutor(1) as pool, unit_of_work(order_sessions) as winner_session:
        winner = place_in(winner_session, "alice", "order-1")
        loser = pool.submit(again_if_raced, lambda: place(order_sessions, "alice", "order-1"))
        eventually(lambda: waiting_for_locks(order_sessions) > 0, what="the loser waiting on the unique index")
        winner_session.commit()
        assert loser.result(timeout=10) == commands.Placed(winner.order_id, created=False)
