"""Zeebe messages are built by their declarations: each one's id rule, variables and time to live in one place."""
import pytest

from shared.contracts.base import Line
from shared.contracts.delivery import DELIVERY_COMPLETED, Delivered
from shared.contracts.order import ABORT_REQUESTED, CANCEL_REQUESTED, ORDER_PLACED, STOP_REQUESTED, AbortStart
from shared.contracts.process import OrderStart
from shared.contracts.warehouse import STOCK_ALLOCATED

START = OrderStart(order_id="o-1", items=[Line(sku="SKU-1", quantity=1)], accepts_partial=True, earlier_orders=0,
                   stock_wait_reminder="PT1H", stock_wait_deadline="PT2H", delivery_reminder="PT1H",
                   delivery_deadline="PT2H")


def test_a_process_start_is_identified_by_its_order_so_a_resend_never_starts_a_second_instance():
    message = ORDER_PLACED.to("o-1", START)
    assert (message.name, message.correlation_key, message.message_id) == ("order-placed", "o-1", "o-1")
    assert message.variables == START.to_variables() and message.ttl_ms == 3_600_000


@pytest.mark.parametrize("declared", [CANCEL_REQUESTED, STOP_REQUESTED, STOCK_ALLOCATED])
def test_a_once_per_order_message_is_identified_by_its_name_and_the_order(declared):
    message = declared.to("o-1")
    assert (message.message_id, message.variables, message.ttl_ms) == (f"{declared.name}:o-1", {}, declared.ttl_ms)


def test_an_abort_carries_its_start_variables():
    message = ABORT_REQUESTED.to("o-1", AbortStart(order_id="o-1"))
    assert (message.message_id, message.variables) == ("order-abort-requested:o-1", {"orderId": "o-1"})


def test_a_delivery_is_identified_by_the_delivery_that_completed_the_shipment():
    message = DELIVERY_COMPLETED.to("s-1", Delivered(delivered_at="2026-12-07T12:00:00+00:00"), occurrence="d-1")
    assert (message.correlation_key, message.message_id) == ("s-1", "d-1")
    assert message.variables == {"deliveredAt": "2026-12-07T12:00:00+00:00"}


def test_a_resend_of_an_expired_message_has_an_id_of_its_own_per_expired_row():
    message = CANCEL_REQUESTED.again("o-1", {}, instead_of="row-7")
    assert (message.message_id, message.ttl_ms) == ("order-cancel-requested:o-1:again:row-7", CANCEL_REQUESTED.ttl_ms)


def test_variables_and_occurrences_the_declaration_does_not_take_are_refused():
    with pytest.raises(TypeError):
        CANCEL_REQUESTED.to("o-1", AbortStart(order_id="o-1"))
    with pytest.raises(TypeError):
        ABORT_REQUESTED.to("o-1")
    with pytest.raises(TypeError):
        DELIVERY_COMPLETED.to("s-1", Delivered(delivered_at="now"))
    with pytest.raises(TypeError):
        STOCK_ALLOCATED.to("o-1", occurrence="x")
