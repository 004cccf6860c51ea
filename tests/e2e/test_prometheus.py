"""The launcher's Prometheus scrapes every service replica and Camunda, and has the alert rules loaded and evaluated."""
from __future__ import annotations

import httpx
import pytest
import yaml

from shared.contracts.registry import SERVICES
from tests.conftest import eventually
from tools.stack import prometheus
from tools.stack.services import replicas


@pytest.fixture(scope="module")
def prometheus_api(stack) -> httpx.Client:
    client = httpx.Client(base_url=f"{prometheus.url(stack)}/api/v1", timeout=10)
    try:
        client.get("/status/buildinfo").raise_for_status()
    except httpx.HTTPError as error:
        pytest.fail(f"the launcher's Prometheus does not answer at {prometheus.url(stack)} ({error}): "
                    f"{prometheus.status(stack)}; `make up` starts it")
    return client


def test_prometheus_reports_every_service_replica_and_camunda_up(stack, prometheus_api):
    expected = {(r.service, f"127.0.0.1:{r.port(stack)}") for service in SERVICES for r in replicas(stack, service)}
    expected.add((prometheus.CAMUNDA_JOB, f"127.0.0.1:{stack.camunda_management_port}"))

    def targets() -> dict[tuple[str, str], str]:
        active = prometheus_api.get("/targets", params={"state": "active"}).json()["data"]["activeTargets"]
        return {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in active}

    # A target's health is known after its first scrape, a few seconds after Prometheus (re)loads its configuration.
    seen = eventually(lambda: (found := targets()) and set(found) >= expected
                      and all(found[t] == "up" for t in expected) and found,
                      timeout=30, what=f"Prometheus to scrape {sorted(expected)} successfully")
    assert set(seen) == expected


def test_prometheus_has_the_alert_rules_loaded_and_evaluating(prometheus_api):
    shipped = {rule["alert"] for group in yaml.safe_load(prometheus.RULES.read_text())["groups"]
               for rule in group["rules"]}

    def rules() -> dict[str, str]:
        groups = prometheus_api.get("/rules", params={"type": "alert"}).json()["data"]["groups"]
        return {rule["name"]: rule["health"] for group in groups for rule in group["rules"]}

    loaded = eventually(lambda: (found := rules()) and all(h == "ok" for h in found.values()) and found,
                        timeout=30, what="Prometheus to evaluate every alert rule without an error")
    assert set(loaded) == shipped


def test_the_gauges_the_alerts_read_from_the_databases_reach_prometheus(stack, prometheus_api):
    def series(query: str) -> set[tuple[str, str]]:
        result = prometheus_api.get("/query", params={"query": query}).json()["data"]["result"]
        return {(r["metric"]["job"], r["metric"]["instance"]) for r in result}

    every_replica = {(r.service, f"127.0.0.1:{r.port(stack)}") for s in SERVICES for r in replicas(stack, s)}
    order_replicas = {(job, instance) for job, instance in every_replica if job == "order"}
    eventually(lambda: series("fulfil_outbox_oldest_unpublished_age_seconds") >= every_replica
               and series("fulfil_order_stalled_orders") == order_replicas,
               timeout=30, what="every replica's outbox age, and each Order replica's stalled orders, in Prometheus")
