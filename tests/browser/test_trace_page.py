"""From an order's instance in the process monitor to its trace in Zipkin's UI, in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_monitor_page import diagram_drawn, instance_of
from tests.e2e.conftest import place_and_complete
from tests.e2e.test_tracing import IN_STOCK, trace_of, traced


def test_an_orders_instance_page_links_to_its_trace_and_zipkin_shows_every_service_in_it(
        page, service_url, log_in, order_api, monitor_api, fresh_sku, zipkin_api, stack, screenshot):
    # Part of it backordered: the trace then runs through all four services.
    in_stock, short = fresh_sku(4), fresh_sku(1)
    order = place_and_complete(order_api, items=[{"sku": in_stock, "quantity": 2}, {"sku": short, "quantity": 3}])
    trace_id = traced(order)
    services = IN_STOCK | {"factory"}
    trace_of(zipkin_api, trace_id, services)
    instance = instance_of(monitor_api, order["id"])

    log_in(page, service_url("monitor", f"/#/instances/{instance['key']}"))
    diagram_drawn(page)
    link = page.get_by_test_id("trace-link")
    expect(link).to_have_attribute("href", f"{stack.zipkin_url}/zipkin/traces/{trace_id}")
    link.click()

    page.wait_for_url(f"{stack.zipkin_url}/zipkin/traces/{trace_id}")
    # Zipkin's header: its id and how many services sent spans (its span rows read "<service>: <span name>").
    header = page.locator("main")
    expect(header).to_contain_text(trace_id)
    expect(header).to_contain_text(re.compile(r"Services\s*\d+"))
    shown = int(re.search(r"Services\s*(\d+)", header.inner_text())[1])
    assert shown >= len(services), f"Zipkin's page shows {shown} services, the trace has {sorted(services)}"
    expect(page.get_by_text(re.compile(r"^order: ")).first).to_be_visible()  # the placement, its root
    screenshot(page, "trace")
