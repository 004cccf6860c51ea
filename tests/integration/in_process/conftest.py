"""A service's routes (FastAPI's TestClient) and use cases in this process, against a scratch database on the
stack's PostgreSQL, the one real component: no Kafka, Zeebe, Keycloak or running service is needed."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from shared.runtime.db import make_engine
from shared.runtime.migrations import upgrade_to_head
from shared.runtime.outbox import Publishing, UnitOfWork
from shared.runtime.service import Service, create_app
from shared.runtime.settings import ServiceSettings
from shared.runtime.tables import outbox
from tests.integration.conftest import SERVICES_DIR
from tests.unit.tokens import AUDIENCE, ISSUER, JwksEndpoint, token
from tools.stack.config import StackSettings
from tools.stack.errors import StackError
from tools.stack.postgres import scratch_database


@pytest.fixture(scope="session")
def postgres() -> StackSettings:
    """The stack's PostgreSQL, whatever else runs; one that does not answer is a failure, never a skip."""
    settings = StackSettings()
    try:
        admin = create_engine(settings.superuser_database_url())
        with admin.connect():
            pass
        admin.dispose()
    except (StackError, OperationalError) as exc:
        pytest.fail(f"the stack's PostgreSQL does not answer ({exc}): start it with `make up`")
    return settings


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[JwksEndpoint]:
    """Serves the test key (tests/unit/tokens.py) the way the realm serves its own: the app checks tokens as ever."""
    with JwksEndpoint() as endpoint:
        yield endpoint


TOKEN_LIFETIME_SECONDS = 6 * 3600


def bearer(subject: str | None, *roles: str) -> dict[str, str]:
    # Modules mint theirs when collected, and a whole `make test` runs for half an hour and more before their turn.
    return {"Authorization": f"Bearer {token(TOKEN_LIFETIME_SECONDS, subject=subject, roles=roles)}"}


@pytest.fixture(scope="session")
def service_database(postgres) -> Iterator[Callable[[str], AbstractContextManager[tuple[Engine, str]]]]:
    """`service_database(service)`: a scratch database with the service's schema and seed data, and its URL for the
    service's settings. The schema is migrated once per run, as the service migrates its own, and each database is a
    copy of that one: a test's database costs a tenth of a second, not a migration."""
    with ExitStack() as templates:
        migrated: dict[str, str] = {}

        @contextmanager
        def of(service: str) -> Iterator[tuple[Engine, str]]:
            if service not in migrated:
                url = templates.enter_context(scratch_database(postgres, f"{service}_template"))
                upgrade_to_head(SERVICES_DIR / service / "migrations", url)
                migrated[service] = make_url(url).database
            with scratch_database(postgres, f"{service}_test", template=migrated[service]) as url:
                sessions = make_engine(url)
                try:
                    yield sessions, url
                finally:
                    sessions.dispose()

        yield of


def module_database(service: str):
    """A fixture of one database with the service's schema for all tests of a module, which keep apart by their own
    ids or a transaction each: `order_database = module_database("order")`."""
    @pytest.fixture(scope="module")
    def database(service_database) -> Iterator[Engine]:
        with service_database(service) as (sessions, _):
            yield sessions

    return database


def settings_of(settings_class: type[ServiceSettings], database_url: str, provider: JwksEndpoint,
                **fields: Any) -> ServiceSettings:
    """Given here, not left to the environment: the scratch database and the test key's issuer and JWKS."""
    return settings_class(database_url=database_url, auth_issuer=ISSUER, auth_audience=AUDIENCE,
                          auth_jwks_url=provider.url, **fields)


@contextmanager
def in_process(service: Service) -> Iterator[TestClient]:
    """The service's app as `create_app` gives it, without the background work: its lifespan runs, no loop starts."""
    try:
        with TestClient(create_app(service)) as client:
            yield client
    finally:
        service.sessions.dispose()


@contextmanager
def rolled_back(sessions: Engine, service: Publishing) -> Iterator[UnitOfWork]:
    """One unit of work for a whole test, rolled back at its end: the test reads what its use cases wrote within
    their transaction, and the database is left as it was for the next test."""
    with sessions.connect() as session:
        transaction = session.begin()
        try:
            yield UnitOfWork(session, service)
        finally:
            transaction.rollback()


def outbox_rows(database: Engine | Connection, key: str) -> list:
    """What units of work wrote to the outbox for one key (an order id, a SKU), in write order: destination, topic
    (the Zeebe message's name for a message) and payload. Given a connection, what its transaction sees."""
    query = (select(outbox.c.destination, outbox.c.topic, outbox.c.payload)
             .where(outbox.c.key == key).order_by(outbox.c.seq))
    if isinstance(database, Connection):
        return database.execute(query).all()
    with database.connect() as session:
        return session.execute(query).all()


def events_of(sessions: Engine | Connection, key: str) -> list[tuple[str, dict]]:
    """The CloudEvents written for one key: (type, data) each."""
    return [(r.payload["type"], r.payload["data"]) for r in outbox_rows(sessions, key) if r.destination == "kafka"]


def messages_of(sessions: Engine | Connection, key: str) -> list[tuple[str, dict]]:
    """The Zeebe messages written for one correlation key: (name, payload with message_id, variables, ttl_ms) each."""
    return [(r.topic, r.payload) for r in outbox_rows(sessions, key) if r.destination == "zeebe"]
