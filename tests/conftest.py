"""Fixtures shared by the integration and end-to-end tests: the running real stack."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from services.warehouse.catalog import CATALOG
from shared.runtime.auth import client_credentials, service_client_id
from tools.invariants import Databases
from tools.orders import wait_until_orderable
from tools.stack import camunda, keycloak
from tools.stack.config import StackSettings
from tools.stack.services import healthy, replicas

# The demo customer every test order belongs to (the customer is the subject of the token that placed it).
CUSTOMER = keycloak.CUSTOMER_USERS[0]

# Header on records a test puts on a service topic to prove bad input is handled; the catalog
# check skips exactly these, and no others.
INJECTED_BY_TEST = "test_injected"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that stop or kill components run last, so no other test meets a component that is down."""
    items.sort(key=lambda item: item.get_closest_marker("kills_components") is not None)


@pytest.fixture(scope="session")
def stack() -> StackSettings:
    """The stack `make test` started; a missing stack is a failure, never a skip."""
    settings = StackSettings()
    down = [r.name for r in replicas(settings) if not healthy(settings, r)]
    if down:
        pytest.fail(f"the stack is not running ({', '.join(down)} down): run the suite with `make test`")
    return settings


@pytest.fixture(scope="session")
def login(stack):
    """`login(user)`: an httpx auth that holds a token of one of the realm's demo users (keycloak.CUSTOMER_USERS,
    keycloak.OPERATOR_USER) or, for `login.service()`, of the Delivery service's account; one per user."""
    logins: dict[str, keycloak.OAuthToken] = {}

    def of(user: str = keycloak.OPERATOR_USER):
        return logins.setdefault(user, keycloak.login(stack, user))

    def service():
        client = service_client_id("delivery")
        return logins.setdefault(client, client_credentials(
            stack.auth_issuer + "/protocol/openid-connect/token", client, keycloak.client_secret(stack, client)))

    of.service = service
    return of


def _http_client(base_url: str, auth):
    with httpx.Client(base_url=base_url, timeout=10, auth=auth) as client:
        yield client


@pytest.fixture(scope="session")
def order_api(stack, login):
    """The Order API as the customer every test order belongs to; an operator's call passes `auth=login()`.

    Handed out once the Order service has heard of the seeded catalog, which the Warehouse announces as it first
    migrates: on a stack that has only just started, an order for KB-101 could be refused otherwise.
    """
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.order_port}", timeout=10, auth=login(CUSTOMER)) as client:
        wait_until_orderable(client, [item["sku"] for item in CATALOG])
        yield client


@pytest.fixture(scope="session")
def warehouse_api(stack, login):
    yield from _http_client(f"http://127.0.0.1:{stack.warehouse_port}", login())


@pytest.fixture(scope="session")
def factory_api(stack, login):
    yield from _http_client(f"http://127.0.0.1:{stack.factory_port}", login())


@pytest.fixture(scope="session")
def delivery_api(stack, login):
    yield from _http_client(f"http://127.0.0.1:{stack.delivery_port}", login())


@pytest.fixture
def fresh_sku(warehouse_api, order_api):
    """A SKU of this test's own, so no other order's backorder competes for its stock; returned once orders for it
    are taken (the Order service hears of a new SKU from the Warehouse's event a moment after it is added)."""
    def make(on_hand: int, *, length: int = 10) -> str:
        sku = f"T-{uuid.uuid4().hex[:8]}".ljust(length, "x")
        response = warehouse_api.put(f"/stock/{sku}", json={"on_hand": on_hand, "name": "test item"})
        assert response.status_code == 201, response.text
        wait_until_orderable(order_api, [sku])
        return sku

    return make


@pytest.fixture
def sku_the_warehouse_lacks(service_db):
    """`make()`: a SKU the Order service's catalog lists and the Warehouse does not have, written straight into the
    Order's database (as an announcement the Warehouse never made would leave it). An order for it is taken, and its
    reservation is an incident at once: how a test reaches one, now that placing refuses a SKU not in the catalog."""
    def make() -> str:
        sku = f"NOT-STOCKED-{uuid.uuid4().hex[:8]}"
        with service_db("order") as db:
            db.execute(text("INSERT INTO catalog_skus (sku, name) VALUES (:sku, 'no such item in the warehouse')"),
                       {"sku": sku})
            db.commit()
        return sku

    return make


@pytest.fixture(scope="session")
def analytics_api(stack, login):
    yield from _http_client(f"http://127.0.0.1:{stack.analytics_port}", login())


@pytest.fixture(scope="session")
def monitor_api(stack, login):
    yield from _http_client(f"http://127.0.0.1:{stack.monitor_port}", login())


@pytest.fixture(scope="session")
def zipkin_api(stack):
    """Zipkin's API (no login: it listens on loopback only), where the services' spans are collected."""
    yield from _http_client(stack.zipkin_url, None)


@pytest.fixture(scope="session")
def camunda_api(stack):
    yield from _http_client(f"http://localhost:{stack.camunda_http_port}", None)


@pytest.fixture(scope="session")
def engine_records(stack):
    """What the engine reported (instances, incidents, user tasks), from its records on Kafka."""
    from tools.stack.records import RecordLog

    with RecordLog(stack.kafka_bootstrap) as records:
        yield records


@pytest.fixture(scope="session")
def service_db(stack):
    """Direct read access to a service's own database, for checking what it stored."""
    databases = Databases(stack)
    yield databases
    databases.dispose()


@pytest.fixture
def database_outage(stack):
    """Make a service's database refuse that service (a technical failure outside the code).

    Returns `start(service)`, which starts the outage and returns a function that ends it;
    every outage ends at teardown at the latest.
    """
    admin = create_engine(stack.superuser_database_url(), isolation_level="AUTOCOMMIT")
    roles = []

    def set_login(role: str, allowed: bool) -> None:
        with admin.connect() as db:
            db.execute(text(f"ALTER ROLE {role} {'LOGIN' if allowed else 'NOLOGIN'}"))
            if not allowed:
                db.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                           {"r": role})

    def start(service: str):
        role = f"{service}_service"
        roles.append(role)
        set_login(role, False)
        return lambda: set_login(role, True)

    yield start
    for role in roles:
        set_login(role, True)
    admin.dispose()


def eventually(check, *, timeout: float = 30, interval: float = 0.25, what: str = "condition"):
    """Poll `check` until it returns something truthy; fail with `what` and the last value otherwise."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def new_order_request(**overrides) -> dict:
    body = {
        "items": [{"sku": "KB-101", "quantity": 1}, {"sku": "MS-202", "quantity": 2}],
        "shipping_address": {"name": "Ada Lovelace", "street": "12 Analytical Row", "city": "London",
                             "postal_code": "N1 9GU", "country": "GB"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def engine_clock(stack, camunda_api):
    """Moves Camunda's controlled clock forward, so timers fire without waiting; reset afterwards."""
    start_ms = int(time.time() * 1000)

    def advance_to(seconds_after_start: float) -> None:
        response = camunda_api.put("/v2/clock", json={"timestamp": start_ms + int(seconds_after_start * 1000)})
        assert response.status_code == 204, response.text

    yield advance_to
    camunda_api.post("/v2/clock/reset", json={})
    # A snapshot taken while the clock was pinned would bring the pin back after a restart (tools.stack.camunda).
    camunda.take_snapshot(stack)


@pytest.fixture
def paused_production(stack, factory_api):
    """The factory's line stands still, so orders keep waiting for stock as long as the test needs."""
    assert factory_api.put("/production-line", json={"running": False}).status_code == 200
    yield lambda: factory_api.put("/production-line", json={"running": True})
    factory_api.put("/production-line", json={"running": True})
