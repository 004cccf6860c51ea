"""A service declares once which of its failures no retry can fix; every job and event handler translates them."""
from __future__ import annotations

import asyncio
import time

import pytest
from pyzeebe import Job

from services.delivery import commands as delivery_commands
from services.delivery.workers import handlers as delivery_handlers
from services.order import commands as order_commands
from services.order.domain import UnknownOrder
from services.order.workers import handlers as order_handlers
from services.warehouse import commands as warehouse_commands
from services.warehouse.workers import handlers as warehouse_handlers
from shared.contracts.base import OrderJob
from shared.contracts.factory import ItemsProduced
from shared.runtime.inbox import EventRejected, Subscription, refusing
from shared.runtime.zeebe import JobRejected, _adapter, _Handler

REFUSALS = {UnknownOrder: "no order with id {}"}


class Probe(OrderJob, job_type="test.refusing"):
    pass


def job() -> Job:
    return Job(key=1, type=Probe.job_type, process_instance_key=1, bpmn_process_id="test", process_definition_version=1,
               process_definition_key=1, element_id="Step", element_instance_key=1, custom_headers={},
               worker="test-worker", retries=3, deadline=int((time.time() + 60) * 1000), variables={})


def run_job(failure: Exception):
    def handler(order: Probe) -> None:
        raise failure

    return asyncio.run(_adapter(_Handler(handler, Probe, ()), {}, 1, REFUSALS)(job(), orderId="o-1"))


def test_a_job_that_meets_a_declared_refusal_raises_an_incident_with_the_declared_reason():
    with pytest.raises(JobRejected, match="^no order with id o-1$"):
        run_job(UnknownOrder("o-1"))


def test_a_job_that_meets_any_other_failure_is_retried_as_before():
    with pytest.raises(ConnectionError):
        run_job(ConnectionError("the database is down"))


def test_an_event_whose_handler_meets_a_declared_refusal_is_dead_lettered_with_the_declared_reason():
    def handler(uow, event, envelope) -> None:
        raise UnknownOrder(event.order_id)

    [subscription] = refusing(REFUSALS, [Subscription(ItemsProduced, handler)])
    event = ItemsProduced(order_id="o-1", request_id="r-1", sku="SKU-1", quantity=1)
    with pytest.raises(EventRejected, match="^no order with id o-1$"):
        subscription.handler(None, event, None)


def test_each_service_declares_its_refusals_once_for_its_job_handlers():
    assert order_handlers.refusals is order_commands.REFUSALS
    assert warehouse_handlers.refusals is warehouse_commands.REFUSALS
    assert delivery_handlers.refusals is delivery_commands.REFUSALS
