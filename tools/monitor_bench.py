"""How fast the process monitor answers with many instances: `python -m tools.monitor_bench [--instances 10000]`.

On the running stack's PostgreSQL, in a scratch database of its own (dropped afterwards, so the monitor's own
data is untouched): projects the engine's first records from `zeebe.records` one transaction each, as the
service does, and prints records per second; then loads synthetic instances of the fulfilment process (most
completed, some waiting for stock or a courier, some with an incident or a user task) and times each request
the page makes, through the service's own routes. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from services.monitor import api, db
from services.monitor.consumers import project_records
from services.monitor.domain import bpmn_facts
from services.monitor.settings import MonitorSettings
from shared.contracts.registry import ENGINE_RECORDS_TOPIC
from shared.runtime.auth import TokenVerifier
from shared.runtime.db import make_engine, unit_of_work
from shared.runtime.limits import TokenBuckets
from shared.runtime.migrations import upgrade_to_head
from tools.bootstrap import BPMN_DIR
from tools.stack import keycloak
from tools.stack.config import REPO_ROOT, StackSettings
from tools.stack.postgres import scratch_database

MIGRATIONS = REPO_ROOT / "services" / "monitor" / "migrations"
FULFILMENT_KEY, SHIPMENT_KEY = 1_000_001, 1_000_002
# The path of an order that is shipped at once and completes, as the engine reports it (element, type).
HAPPY_PATH = [
    ("OrderPlaced", "START_EVENT"), ("Fulfil", "SUB_PROCESS"), ("FulfilStarted", "START_EVENT"),
    ("ReserveStock", "SERVICE_TASK"), ("Fork", "PARALLEL_GATEWAY"), ("Backordered", "EXCLUSIVE_GATEWAY"),
    ("ShipNow", "EXCLUSIVE_GATEWAY"), ("BackorderDone", "EXCLUSIVE_GATEWAY"), ("Fulfilled", "END_EVENT"),
    ("ShipAvailable", "CALL_ACTIVITY"), ("ShipNowDone", "EXCLUSIVE_GATEWAY"), ("ShippedNow", "END_EVENT"),
    ("CompleteOrder", "SERVICE_TASK"), ("OrderCompleted", "END_EVENT"),
]
FLOWS = ["Flow_ToFulfil", "Flow_ToReserve", "Flow_ToFork", "Flow_ToBackordered", "Flow_ToShipNow",
         "Flow_NothingBackordered", "Flow_BackorderToEnd", "Flow_ToShipAvailable", "Flow_AvailableShipped",
         "Flow_ShipNowToEnd", "Flow_ToComplete", "Flow_ToEnd"]


def engine_records(settings: StackSettings, limit: int) -> list[tuple[int, bytes]]:
    """Up to `limit` records from the start of the topic, with their Kafka partition."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"monitor-bench-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    partitions = consumer.list_topics(ENGINE_RECORDS_TOPIC, timeout=10).topics[ENGINE_RECORDS_TOPIC].partitions
    consumer.assign([TopicPartition(ENGINE_RECORDS_TOPIC, p, OFFSET_BEGINNING) for p in partitions])
    found: list[tuple[int, bytes]] = []
    quiet_since = time.monotonic()
    while len(found) < limit and time.monotonic() - quiet_since < 3:
        batch = [m for m in consumer.consume(500, timeout=0.5) if not m.error()]
        if batch:
            quiet_since = time.monotonic()
        found += [(m.partition(), m.value()) for m in batch]
    consumer.close()
    return found[:limit]


def projection_rate(sessions, records: list[tuple[int, bytes]], batch: int) -> float:
    """Records per second, `batch` records per transaction (the service takes what Kafka has, up to 500)."""
    started = time.perf_counter()
    for first in range(0, len(records), batch):
        with unit_of_work(sessions) as session:
            project_records(session, records[first:first + batch])
    return len(records) / (time.perf_counter() - started)


def _definition(key: int, resource: str, process_id: str, at: datetime) -> dict:
    xml = (BPMN_DIR / resource).read_text()
    name, forms = bpmn_facts(xml, process_id)
    return dict(key=key, bpmn_process_id=process_id, version=1, name=name, resource_name=resource, bpmn_xml=xml,
                forms=forms, deployed_at=at)


def synthetic_rows(count: int, rng: random.Random, now: datetime) -> dict:
    """Rows for `count` fulfilment instances over the past week: 75 % completed, 15 % waiting part-way,
    4 % with an open incident, 3 % at a user task, 3 % cancelled."""
    rows: dict = {table: [] for table in ("instances", "element_instances", "taken_flows", "incidents",
                                          "user_tasks", "variables")}
    key = 10_000_000
    for n in range(count):
        key += 1000
        instance, started = key, now - timedelta(seconds=rng.uniform(0, 7 * 86400))
        roll = rng.random()
        kind = ("completed" if roll < 0.75 else "waiting" if roll < 0.90 else "incident" if roll < 0.94
                else "task" if roll < 0.97 else "cancelled")
        steps = len(HAPPY_PATH) if kind == "completed" else rng.randint(4, len(HAPPY_PATH) - 3)
        at = started
        for step, (element, element_type) in enumerate(HAPPY_PATH[:steps]):
            last = step == steps - 1 and kind != "completed"
            container_open = element == "Fulfil" and kind != "completed"
            state = ("TERMINATED" if kind == "cancelled" and (last or container_open)
                     else "ACTIVE" if last or container_open else "COMPLETED")
            rows["element_instances"].append(dict(
                key=instance + 1 + step, instance_key=instance, definition_key=FULFILMENT_KEY, element_id=element,
                element_type=element_type, state=state, entered_at=at,
                left_at=None if state == "ACTIVE" else at + timedelta(milliseconds=40)))
            at += timedelta(milliseconds=rng.randint(20, 400))
        for step, flow in enumerate(FLOWS[:steps - 1]):
            rows["taken_flows"].append(dict(key=instance + 100 + step, instance_key=instance, element_id=flow,
                                            taken_at=started + timedelta(milliseconds=50 * step)))
        order_id = str(uuid.UUID(int=rng.getrandbits(128)))
        state = {"completed": "COMPLETED", "cancelled": "TERMINATED"}.get(kind, "ACTIVE")
        rows["instances"].append(dict(key=instance, definition_key=FULFILMENT_KEY, bpmn_process_id="order-fulfillment",
                                      version=1, parent_key=None, state=state, order_id=order_id, started_at=started,
                                      ended_at=at if state != "ACTIVE" else None, last_record_at=at))
        for v, (name, value) in enumerate({"orderId": order_id, "acceptsPartial": True, "reservationOutcome": "full",
                                          "items": [{"sku": "KB-101", "quantity": n % 5 + 1}],
                                          "stockWaitReminder": "P1D", "stockWaitDeadline": "P3D",
                                          "deliveryReminder": "P2D", "deliveryDeadline": "P5D"}.items()):
            rows["variables"].append(dict(key=instance + 200 + v, instance_key=instance, scope_key=instance,
                                          name=name, value=json.dumps(value), updated_at=started))
        element = HAPPY_PATH[steps - 1][0]
        if kind == "incident":
            rows["incidents"].append(dict(
                key=instance + 300, instance_key=instance, definition_key=FULFILMENT_KEY, element_id=element,
                element_instance_key=instance + steps, error_type="JOB_NO_RETRIES",
                message=f"synthetic failure at {element}", job_key=instance + 301, state="ACTIVE", created_at=at))
        if kind == "task":
            rows["user_tasks"].append(dict(
                key=instance + 400, instance_key=instance, definition_key=FULFILMENT_KEY, element_id="DecideLateStock",
                element_instance_key=instance + 401, assignee=None, candidate_groups=["fulfilment-team"],
                candidate_users=[], due_date=None, state="CREATED", created_at=at))
    return rows


def load(sessions, count: int, seed: int) -> tuple[float, dict[str, int]]:
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    rows = synthetic_rows(count, random.Random(seed), now)
    with unit_of_work(sessions) as session:
        session.execute(insert(db.definitions), [
            _definition(FULFILMENT_KEY, "order-fulfillment.bpmn", "order-fulfillment", now - timedelta(days=8)),
            _definition(SHIPMENT_KEY, "order-shipment.bpmn", "order-shipment", now - timedelta(days=8))])
        for table, values in rows.items():
            for chunk in range(0, len(values), 5000):
                session.execute(insert(db.metadata.tables[table]), values[chunk:chunk + 5000])
    with unit_of_work(sessions) as session:
        session.execute(text("ANALYZE"))
    return time.perf_counter() - started, {table: len(values) for table, values in rows.items()}


def page_requests(client: TestClient, count: int) -> dict[str, tuple[str, dict]]:
    """The requests the page makes, by what a person looks at: path and query."""
    some = client.get("/instances", params={"limit": 1, "offset": count // 2}).json()["items"][0]
    incident = client.get("/incidents", params={"limit": 1}).json()["items"][0]
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    return {
        "processes (definitions with counts)": ("/definitions", {}),
        "diagram counts per element": (f"/definitions/{FULFILMENT_KEY}/statistics", {}),
        "diagram XML": (f"/definitions/{FULFILMENT_KEY}/xml", {}),
        "instances, first page": ("/instances", {}),
        "instances, a page in the middle": ("/instances", {"offset": count // 2}),
        "instances, active": ("/instances", {"state": "ACTIVE"}),
        "instances, with incident": ("/instances", {"incident": "true"}),
        "instances, by order id": ("/instances", {"order_id": some["order_id"]}),
        "instances, completed, last 2 days": ("/instances", {"started_from": two_days_ago, "state": "COMPLETED"}),
        "one instance (diagram, variables)": (f"/instances/{some['key']}", {}),
        "one incident's instance": (f"/instances/{incident['instance_key']}", {}),
        "open incidents": ("/incidents", {}),
        "open user tasks": ("/user-tasks", {}),
        "stalled instances": ("/stalled-instances", {"idle_seconds": 300}),
    }


def time_requests(client: TestClient, requests: dict[str, tuple[str, dict]],
                  rounds: int) -> list[tuple[str, float, float, int]]:
    figures = []
    for what, (path, query) in requests.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get(path, params=query)
            times.append(time.perf_counter() - started)
            response.raise_for_status()
        times.sort()
        figures.append((what, statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000,
                        len(response.content)))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.monitor_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=2000, help="engine records to project from the topic")
    parser.add_argument("--rounds", type=int, default=20, help="times each request is made")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    settings = StackSettings()
    with scratch_database(settings, "monitor_bench") as url:
        upgrade_to_head(MIGRATIONS, url)
        sessions = make_engine(url)
        records = engine_records(settings, args.records)
        for batch in (1, 500) if records else ():
            rate = projection_rate(sessions, records, batch)
            print(f"projection: {len(records)} engine records from {ENGINE_RECORDS_TOPIC}, {batch} per transaction: "
                  f"{rate:.0f} records/s")
            with unit_of_work(sessions) as session:
                session.execute(text("TRUNCATE " + ", ".join(db.metadata.tables)))
        if not records:
            print(f"projection: {ENGINE_RECORDS_TOPIC} holds no records yet (place an order first)")
        seconds, loaded = load(sessions, args.instances, args.seed)
        print(f"loaded {args.instances} synthetic instances in {seconds:.1f} s: "
              + ", ".join(f"{n} {table}" for table, n in loaded.items()))
        app = FastAPI()
        app.include_router(api.router)
        app.state.sessions = sessions
        app.state.settings = MonitorSettings(database_url=url, auth_issuer=settings.auth_issuer)
        # Every request carries the operator's token and is checked as the service checks it: that is part of
        # what a page request costs.
        app.state.token_verifier = TokenVerifier(settings.auth_issuer, app.state.settings.auth_audience,
                                                 app.state.settings.jwks_url)
        # Its subject's allowance is taken too, with no limit the bench could reach: it times pages, not refusals.
        app.state.caller_rate_limit = TokenBuckets(per_second=1e9, burst=10**9, whose="by this token's subject")
        with TestClient(app, headers={"Authorization": f"Bearer {keycloak.login(settings).access_token()}"}) as client:
            figures = time_requests(client, page_requests(client, args.instances), args.rounds)
        sessions.dispose()
    print(f"\n{'request':<38} {'median ms':>10} {'p95 ms':>8} {'bytes':>8}   ({args.rounds} rounds each)")
    for what, median, p95, size in figures:
        print(f"{what:<38} {median:>10.1f} {p95:>8.1f} {size:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
