"""Every service's /metrics follows an order through the real stack: HTTP, jobs, outbox, consumer, process."""
from __future__ import annotations

import uuid
from collections import Counter

import httpx
import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from shared.contracts.registry import CONSUMERS, SERVICES
from tests.conftest import eventually
from tests.e2e.conftest import UNDELIVERABLE, place, wait_for_status
from tools.orders import wait_until_orderable
from tools.stack.services import replicas

# (sample name, its labels as sorted pairs) -> value, summed over the service's replicas
Samples = Counter


def parse(text: str, into: Samples | None = None) -> Samples:
    """Metrics in Prometheus' text format, parsed as Prometheus would (added to `into`, if given)."""
    samples: Samples = Counter() if into is None else into
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] += sample.value
    return samples


def scrape(stack, service: str) -> tuple[Samples, str]:
    """A service's metrics, parsed as Prometheus would, and the text they came in."""
    samples: Samples = Counter()
    texts = []
    for replica in replicas(stack, service):
        response = httpx.get(f"http://127.0.0.1:{replica.port(stack)}/metrics", timeout=10)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        texts.append(response.text)
        parse(response.text, samples)
    return samples, "\n".join(texts)


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` that carry these labels (and maybe others)."""
    return sum(v for (n, have), v in samples.items() if n == name and set(labels.items()) <= set(have))


def series(samples: Samples, name: str) -> list[tuple[dict[str, str], float]]:
    """Each sample called `name`: its labels and its value."""
    return [(dict(have), v) for (n, have), v in samples.items() if n == name]


def scrape_all(stack) -> dict[str, Samples]:
    return {service: scrape(stack, service)[0] for service in SERVICES}


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def one_order(stack, order_api, warehouse_api):
    """Every service's metrics before and after one order went all the way, and the order's id."""
    before = scrape_all(stack)
    sku = f"T-{uuid.uuid4().hex[:8]}"
    assert warehouse_api.put(f"/stock/{sku}", json={"on_hand": 5, "name": "metrics test"}).status_code == 201
    wait_until_orderable(order_api, [sku])
    order_id = place(order_api, items=[{"sku": sku, "quantity": 1}])
    wait_for_status(order_api, order_id, "COMPLETED")
    return before, order_id


def test_http_requests_are_timed_per_route_template_and_status(stack, order_api, one_order):
    before, order_id = one_order
    after, text = scrape(stack, "order")
    http = "fulfil_http_request_duration_seconds_count"
    assert grew(before["order"], after, http, method="POST", route="/orders", status="201") >= 1
    assert grew(before["order"], after, http, method="GET", route="/orders/{order_id}", status="200") >= 1
    assert order_id not in text, "a concrete path (or any order id) became a label"


def test_unknown_paths_and_ids_are_counted_without_their_path_and_metrics_itself_is_not_counted(stack, order_api):
    before, _ = scrape(stack, "order")
    unknown = f"nobody-{uuid.uuid4().hex}"
    assert order_api.get(f"/orders/{unknown}").status_code == 404
    assert order_api.get(f"/{unknown}").status_code == 404
    after, text = scrape(stack, "order")
    http = "fulfil_http_request_duration_seconds_count"
    assert grew(before, after, http, method="GET", route="/orders/{order_id}", status="404") >= 1
    assert grew(before, after, http, method="GET", route="unmatched", status="404") >= 1
    assert unknown not in text
    assert not [labels for labels, _ in series(after, http) if labels["route"] == "/metrics"]


def test_each_job_type_of_the_order_counts_a_completion_and_its_handling_time(stack, one_order):
    before, _ = one_order
    after = scrape_all(stack)
    for service, job_type in (("warehouse", "warehouse.reserve-stock"), ("warehouse", "warehouse.pick-pack"),
                              ("delivery", "delivery.start-delivery"), ("order", "order.complete-order")):
        assert grew(before[service], after[service], "fulfil_jobs_total", job_type=job_type,
                    outcome="completed") >= 1, job_type
        assert grew(before[service], after[service], "fulfil_job_duration_seconds_count", job_type=job_type) >= 1
        assert value(after[service], "fulfil_job_duration_seconds_sum", job_type=job_type) > 0


def test_a_refused_delivery_counts_as_a_bpmn_error_of_its_job_type(stack, order_api, fresh_sku):
    before, _ = scrape(stack, "delivery")
    order_id = place(order_api, items=[{"sku": fresh_sku(1), "quantity": 1}], shipping_address=UNDELIVERABLE)
    wait_for_status(order_api, order_id, "DELIVERY_FAILED")
    after, _ = scrape(stack, "delivery")
    assert grew(before, after, "fulfil_jobs_total", job_type="delivery.start-delivery", outcome="bpmn_error") >= 1


def test_the_outbox_counts_what_each_lane_published(stack, one_order):
    before, _ = one_order
    after = scrape_all(stack)
    published = "fulfil_outbox_published_rows_total"
    # Order placed: an event on Kafka and the message that starts the process on Zeebe.
    assert grew(before["order"], after["order"], published, lane="kafka") >= 1
    assert grew(before["order"], after["order"], published, lane="zeebe") >= 1
    assert grew(before["warehouse"], after["warehouse"], published, lane="kafka") >= 1


def test_every_service_shows_its_outbox_backlog_per_lane_and_its_process_cpu_and_memory(stack):
    for service, samples in scrape_all(stack).items():
        for gauge in ("fulfil_outbox_backlog_rows", "fulfil_outbox_oldest_unpublished_age_seconds"):
            lanes = sorted(labels["lane"] for labels, _ in series(samples, gauge))
            assert lanes == ["kafka", "zeebe"], (service, gauge)
        assert [labels for labels, _ in series(samples, "fulfil_outbox_expired_rows")] == [{}], service
        assert value(samples, "process_resident_memory_bytes") > 0, service
        assert value(samples, "process_cpu_seconds_total") > 0, service


def test_consumers_count_the_orders_events_they_handled(stack, one_order):
    before, _ = one_order

    def handled_everywhere():
        after = scrape_all(stack)
        handled = "fulfil_consumer_records_total"
        return all(grew(before[service], after[service], handled, topic=topic, outcome="handled") >= 1
                   for service, topic in (("order", "warehouse.events"), ("order", "delivery.events"),
                                          ("analytics", "order.events"))) and after
    after = eventually(handled_everywhere, timeout=30, what="the consumers to count the order's events")
    assert grew(before["order"], after["order"], "fulfil_consumer_handling_duration_seconds_count",
                topic="warehouse.events") >= 1


def test_the_business_figures_are_for_an_operators_scraper_and_not_on_the_open_metrics(
        stack, analytics_api, one_order):
    _, text = scrape(stack, "analytics")
    assert "fulfil_orders_total" not in text and "fulfil_open_orders" not in text
    unauthenticated = httpx.get(f"http://127.0.0.1:{stack.analytics_port}/figures/metrics", timeout=10)
    assert unauthenticated.status_code == 401

    def counted():
        answer = analytics_api.get("/figures/metrics")  # an operator's token
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
        return value(parse(answer.text), "fulfil_orders_total", event="completed") >= 1
    # Computed again at most every 15 s, so the order may take that long to show.
    eventually(counted, timeout=40, what="/figures/metrics to count a completed order")


def test_every_consumer_reports_its_lag_on_every_partition_it_reads_and_catches_up_to_zero(stack, one_order):
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    partitions = {topic: {str(p) for p in about.partitions} for topic, about in topics.items()}

    def lag_of(service: str) -> dict[tuple[str, str], float]:
        return {(labels["topic"], labels["partition"]): v
                for labels, v in series(scrape(stack, service)[0], "fulfil_consumer_lag_records")}

    def caught_up():
        lag = {consumer.name: lag_of(consumer.name) for consumer in CONSUMERS}
        reported = all(set(lag[c.name]) == {(topic, p) for topic in c.consumed_topics for p in partitions[topic]}
                       for c in CONSUMERS)
        return reported and not any(v for of_service in lag.values() for v in of_service.values()) and lag
    eventually(caught_up, timeout=60, what="every consumer to report a lag of 0 on each partition it reads")
