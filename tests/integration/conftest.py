"""Scratch databases and topics, so these tests never touch a running service's data."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from sqlalchemy import create_engine, text

from services.order import commands as order_commands
from services.order.domain import OrderLimits, OrderLine
from shared.contracts.process import Deadlines
from shared.contracts.registry import ORDER
from shared.runtime.db import make_engine
from shared.runtime.inbox import EventConsumer
from shared.runtime.migrations import upgrade_to_head
from shared.runtime.outbox import UnitOfWork
from shared.runtime.tables import metadata
from tests.conftest import eventually
from tools.stack.postgres import scratch_database

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


@pytest.fixture
def scratch_sessions(stack):
    """The plumbing tables only."""
    with scratch_database(stack, "plumbing_test") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        yield engine
        engine.dispose()


@contextmanager
def migrated_database(stack, service: str):
    """A service's schema (and seed data), migrated as the service migrates its own database."""
    with scratch_database(stack, f"{service}_test") as url:
        upgrade_to_head(SERVICES_DIR / service / "migrations", url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def warehouse_sessions(stack):
    with migrated_database(stack, "warehouse") as sessions:
        yield sessions


@pytest.fixture
def order_sessions(stack):
    with migrated_database(stack, "order") as sessions:
        yield sessions


@pytest.fixture
def delivery_sessions(stack):
    with migrated_database(stack, "delivery") as sessions:
        yield sessions


@pytest.fixture
def scratch_topic(stack):
    from tools.bootstrap import ensure_topics

    name = f"test.{uuid.uuid4().hex[:8]}"
    ensure_topics(stack.kafka_bootstrap, [name, f"{name}.dead-letter"])
    return name


@contextmanager
def consuming(consumer: EventConsumer) -> Iterator[None]:
    """The consumer's loop runs in a thread while the block does."""
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def dead_letter_headers(stack, topic: str, count: int, timeout: float = 60) -> list[dict[str, bytes]]:
    """The headers of the first `count` records on a dead-letter topic, read from its start."""
    reader = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"dlt-{uuid.uuid4()}",
                       "auto.offset.reset": "earliest"})
    reader.subscribe([topic])
    found = []

    def enough() -> bool:
        message = reader.poll(0.5)
        if message is not None and not message.error():
            found.append(dict(message.headers()))
        return len(found) >= count
    try:
        eventually(enough, timeout=timeout, what=f"{count} dead letters on {topic}")
    finally:
        reader.close()
    return found


def waiting_for_locks(sessions) -> int:
    """Sessions of this database that wait for a lock another one holds."""
    with sessions.connect() as session:
        return session.execute(text("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND wait_event_type = 'Lock'")).scalar()


TEST_DEADLINES = Deadlines(stock_wait_reminder="PT1H", stock_wait_deadline="PT2H", delivery_reminder="PT1H",
                           delivery_deadline="PT2H")
TEST_LIMITS = OrderLimits(max_units_per_line=100, max_units_per_order=1000)


def place_test_order(session, *items: OrderLine, customer_id: str = "c-1", idempotency_key: str | None = None,
                     listed: bool = True) -> order_commands.Placed:
    """An order placed through the Order's use case, as the API places it; `listed`: its SKUs are listed first, as
    the Warehouse's announcements would have."""
    uow = UnitOfWork(session, ORDER)
    if listed:
        for line in items:
            order_commands.list_sku(uow, line.sku, "test item")
    return order_commands.place_order(uow, customer_id=customer_id, items=list(items),
                                      shipping_address={"postal_code": "12345"}, accepts_partial=True,
                                      idempotency_key=idempotency_key, deadlines=TEST_DEADLINES, limits=TEST_LIMITS)
