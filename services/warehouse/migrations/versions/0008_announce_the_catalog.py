"""Announce every SKU the catalog already has (fulfilment.warehouse.sku-listed.v1), as adding one now does: the Order
service takes orders only for SKUs it has heard of, and the seeded ones and those added before were never announced."""
from alembic import op

revision, down_revision = "0008", "0007"

# One outbox row per SKU, in the shape shared.runtime.outbox.add_kafka_event writes for SkuListed today, spelled out
# rather than imported: this migration must go on writing what it wrote the day it was made, whatever the code
# becomes. Only the outbox's first columns are named: on a new database the plumbing migrations, which add the
# others (seq among them), run after this one.
ANNOUNCE_EVERY_SKU = """
INSERT INTO outbox (id, destination, topic, key, payload)
SELECT gen_random_uuid(), 'kafka', 'warehouse.events', sku, jsonb_build_object(
    'id', gen_random_uuid()::text,
    'type', 'fulfilment.warehouse.sku-listed.v1',
    'source', '/fulfilment/warehouse',
    'subject', sku,
    'time', now(),
    'correlation_id', sku,
    'causation_id', NULL,
    'data', jsonb_build_object('sku', sku, 'name', name))
FROM stock ORDER BY sku
"""


def upgrade() -> None:
    op.execute(ANNOUNCE_EVERY_SKU)


def downgrade() -> None:
    """Nothing to take back: an announcement published stays on the topic, and one still waiting is harmless (a
    consumer ignores an event type it does not subscribe to)."""
