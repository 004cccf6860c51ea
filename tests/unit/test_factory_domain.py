from datetime import datetime, timedelta, timezone

import pytest

from services.factory.domain import UNSTARTED, NotChangeable, ProductionOrder, ProductionStatus, line_runs

TAKEN_AT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def requested(production_seconds: float = 2.0) -> ProductionOrder:
    return ProductionOrder.requested(request_id="r1", order_id="o1", sku="A", quantity=3, now=TAKEN_AT,
                                     production_seconds=production_seconds, requested_by_event="e1")


def finished(status: ProductionStatus) -> ProductionOrder:
    order = requested()
    return order.withdraw() if status is ProductionStatus.WITHDRAWN else order.produced(order.due_at)


def test_a_new_production_order_is_due_production_seconds_after_it_was_taken():
    order = requested(production_seconds=2.5)
    assert order.due_at == TAKEN_AT + timedelta(seconds=2.5)
    assert (order.status, order.expedited, order.produced_at) == (ProductionStatus.REQUESTED, False, None)
    assert not order.is_due(TAKEN_AT + timedelta(seconds=2.4))
    assert order.is_due(TAKEN_AT + timedelta(seconds=2.5))


def test_producing_a_due_order_records_when_it_was_produced():
    now = TAKEN_AT + timedelta(seconds=5)
    produced = requested().produced(now)
    assert (produced.status, produced.produced_at) == (ProductionStatus.PRODUCED, now)
    assert (produced.request_id, produced.quantity, produced.requested_by_event) == ("r1", 3, "e1")


def test_an_order_cannot_be_produced_before_it_is_due():
    with pytest.raises(NotChangeable, match="r1"):
        requested(production_seconds=10).produced(TAKEN_AT + timedelta(seconds=9))


@pytest.mark.parametrize("status", [ProductionStatus.PRODUCED, ProductionStatus.WITHDRAWN])
def test_a_produced_or_withdrawn_order_is_never_due_again(status):
    order = finished(status)
    assert order.status is status
    assert not order.is_due(TAKEN_AT + timedelta(days=1))
    with pytest.raises(NotChangeable):
        order.produced(TAKEN_AT + timedelta(days=1))


def test_expediting_makes_an_unstarted_order_due_at_once_and_can_be_repeated():
    now = TAKEN_AT + timedelta(seconds=1)
    expedited = requested(production_seconds=60).expedite(now)
    assert (expedited.expedited, expedited.due_at, expedited.status) == (True, now, ProductionStatus.REQUESTED)
    assert expedited.is_due(now)
    assert expedited.can_expedite()


def test_withdrawing_calls_off_an_unstarted_order():
    withdrawn = requested().withdraw()
    assert withdrawn.status is ProductionStatus.WITHDRAWN
    assert not withdrawn.can_withdraw()


@pytest.mark.parametrize("status", [ProductionStatus.PRODUCED, ProductionStatus.WITHDRAWN])
def test_a_produced_or_withdrawn_order_can_be_neither_expedited_nor_withdrawn(status):
    order = finished(status)
    assert not order.can_expedite()
    assert not order.can_withdraw()
    with pytest.raises(NotChangeable):
        order.expedite(TAKEN_AT)
    with pytest.raises(NotChangeable):
        order.withdraw()


def test_requested_is_the_only_status_that_still_changes():
    assert UNSTARTED is ProductionStatus.REQUESTED
    assert requested().can_expedite() and requested().can_withdraw()


def test_statuses_are_the_strings_already_stored_in_the_database():
    assert {str(s) for s in ProductionStatus} == {"REQUESTED", "PRODUCED", "WITHDRAWN"}


@pytest.mark.parametrize("setting, runs", [(None, True), (True, True), (False, False)])
def test_the_line_runs_unless_an_operator_stopped_it(setting, runs):
    assert line_runs(setting) is runs
