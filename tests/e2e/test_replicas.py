"""A second replica of a service starts beside the first and does all of its work: HTTP, events and jobs."""
import uuid

import httpx
import pytest

from tests.conftest import new_order_request
from tests.e2e.conftest import shipments_of, wait_for_status
from tools.orders import wait_until_orderable
from tools.stack import services
from tools.stack.cli import status
from tools.stack.processes import read_pid, stop
from tools.stack.services import Replica

pytestmark = pytest.mark.kills_components


def test_a_second_warehouse_replica_takes_over_http_events_and_jobs_when_the_first_stops(stack, login, order_api,
                                                                                          service_db, capsys):
    two = stack.model_copy(update={"replicas": 2})
    first, second = Replica("warehouse", 1), Replica("warehouse", 2)
    services.start(two, [second])
    try:
        assert read_pid(two, "warehouse-2") and (two.logs / "warehouse-2.log").is_file()
        assert second.port(two) == stack.warehouse_port + 10
        status(two)  # lists each replica asked for; the other services' second replicas are not started here
        listed = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
        assert listed["warehouse-2"] == ["running", f"http://127.0.0.1:{second.port(two)}", "ready"]
        # With the first replica gone, only the second can reserve, take in the factory's items and pack.
        stop(two, first.name)
        with httpx.Client(base_url=f"http://127.0.0.1:{second.port(two)}", timeout=10, auth=login()) as warehouse:
            sku = f"REPLICA-{uuid.uuid4().hex[:8]}"
            assert warehouse.put(f"/stock/{sku}", json={"on_hand": 1, "name": "replica test item"}).status_code == 201
        wait_until_orderable(order_api, [sku])
        placed = order_api.post("/orders", json=new_order_request(items=[{"sku": sku, "quantity": 3}]))
        assert placed.status_code in (200, 201), placed.text
        order_id = placed.json()["id"]
        wait_for_status(order_api, order_id, "COMPLETED", timeout=90)
        # One unit at once, two once the factory's items were taken in: a backorder the second replica filled.
        assert shipments_of(service_db, order_id) == [(1, [(sku, 1)]), (2, [(sku, 2)])]
    finally:
        services.start(stack, [first])
        stop(two, second.name)
    assert services.healthy(stack, first)
