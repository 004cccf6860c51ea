"""The Warehouse announces its catalog (fulfilment.warehouse.sku-listed.v1) through its outbox: every SKU added, and
on migrating, every SKU it had before (scratch databases)."""
from __future__ import annotations

import uuid
from datetime import datetime

from alembic import command
from sqlalchemy import create_engine, text

from services.warehouse import commands
from services.warehouse.catalog import CATALOG
from shared.contracts.registry import WAREHOUSE
from shared.contracts.warehouse import SkuListed
from shared.runtime.db import unit_of_work
from shared.runtime.migrations import PLUMBING_MIGRATIONS, alembic_config
from shared.runtime.outbox import UnitOfWork
from tests.integration.conftest import SERVICES_DIR
from tools.stack.postgres import scratch_database

MIGRATIONS = SERVICES_DIR / "warehouse" / "migrations"


def announcements(session) -> dict[str, list]:
    """SKU -> its sku-listed outbox rows, in write order."""
    rows = session.execute(text("SELECT destination, topic, key, payload FROM outbox "
                                "WHERE payload->>'type' = :type ORDER BY seq"), {"type": SkuListed.event_type}).all()
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(row.key, []).append(row)
    return found


def test_a_new_sku_is_announced_once_and_an_existing_one_not_again(warehouse_sessions):
    sku = f"T-{uuid.uuid4().hex[:8]}"
    with unit_of_work(warehouse_sessions) as session:
        assert commands.add_sku(UnitOfWork(session, WAREHOUSE), sku, "test item", 3, actor="olivia")
        assert not commands.add_sku(UnitOfWork(session, WAREHOUSE), sku, "same sku again", 5, actor="olivia")
        [row] = announcements(session)[sku]
    assert (row.destination, row.topic, row.key) == ("kafka", WAREHOUSE.events_topic, sku)
    assert (row.payload["subject"], row.payload["correlation_id"]) == (sku, sku)
    assert SkuListed.model_validate(row.payload["data"]) == SkuListed(sku=sku, name="test item")


def test_migrating_announces_every_sku_the_catalog_had_as_adding_one_would(warehouse_sessions):
    with unit_of_work(warehouse_sessions) as session:
        backfilled = announcements(session)
        # What the code writes for the same event, to hold the migration's frozen SQL against.
        written = UnitOfWork(session, WAREHOUSE).publish(SkuListed(sku="KB-101", name="Mechanical keyboard"))
        [live] = [row for row in announcements(session)["KB-101"] if row.payload["id"] == written.id]
    assert sorted(backfilled) == sorted(item["sku"] for item in CATALOG)
    assert all(len(rows) == 1 for rows in backfilled.values())
    [frozen] = backfilled["KB-101"]
    assert (frozen.destination, frozen.topic, frozen.key) == (live.destination, live.topic, live.key)
    assert frozen.payload.keys() == live.payload.keys()
    assert {k: v for k, v in frozen.payload.items() if k not in ("id", "time")} == \
        {k: v for k, v in live.payload.items() if k not in ("id", "time")}
    assert datetime.fromisoformat(frozen.payload["time"]).tzinfo is not None
    assert uuid.UUID(frozen.payload["id"]) and frozen.payload["id"] != backfilled["MS-202"][0].payload["id"]


def test_a_database_already_in_use_gets_its_announcements_after_the_rows_it_holds(stack):
    """Upgrading a deployment: the plumbing (the outbox's seq) is there before this migration runs."""
    with scratch_database(stack, "warehouse_upgrade") as url:
        command.upgrade(alembic_config(MIGRATIONS, url), "0006")
        command.upgrade(alembic_config(PLUMBING_MIGRATIONS, url), "head")
        engine = create_engine(url)
        try:
            with engine.begin() as session:
                session.execute(text("INSERT INTO stock (sku, name, on_hand, reserved) VALUES ('OLD-1', 'old', 1, 0)"))
                session.execute(text("INSERT INTO outbox (id, destination, topic, key, payload) "
                                     "VALUES (gen_random_uuid(), 'kafka', 'warehouse.events', 'o-1', '{}')"))
            command.upgrade(alembic_config(MIGRATIONS, url), "head")
            with engine.connect() as session:
                assert "OLD-1" in announcements(session)
                earlier = session.execute(text("SELECT seq FROM outbox WHERE key = 'o-1'")).scalar()
                later = session.execute(text("SELECT min(seq) FROM outbox WHERE key <> 'o-1'")).scalar()
            assert later > earlier
        finally:
            engine.dispose()
