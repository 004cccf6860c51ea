"""The plumbing tables every service database has: the outbox and the inbox."""
from __future__ import annotations

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import Column, Identity, Index, MetaData, Table
from sqlalchemy.types import BigInteger, DateTime, Integer, String, Text, Uuid

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    # Write order: rows of one key are published in this order (a timestamp ties within a transaction).
    Column("seq", BigInteger, Identity(), nullable=False),
    # "kafka": a CloudEvent for `topic`; "zeebe": a Zeebe message named `topic`.
    Column("destination", String(16), nullable=False),
    Column("topic", String(200), nullable=False),
    # Kafka record key, or the Zeebe message's correlation key.
    Column("key", String(200), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    # A Zeebe message not published within its time to live is not published at all (shared.runtime.relay).
    Column("expired_at", DateTime(timezone=True)),
    # The W3C trace context of the span that wrote the row, which the relay's span continues (shared.runtime.tracing).
    Column("traceparent", String(55)),
    Index("outbox_unpublished", "destination", "seq",
          postgresql_where=text("published_at IS NULL AND expired_at IS NULL")),
    Index("outbox_unpublished_by_key", "key", "seq",
          postgresql_where=text("published_at IS NULL AND expired_at IS NULL")),
    Index("outbox_expired", "seq", postgresql_where=text("expired_at IS NOT NULL")),
    # A Zeebe message's rows for one correlation key, newest last: what the reconciler reads of an order.
    Index("outbox_messages_by_key", "key", "topic", "seq", postgresql_where=text("destination = 'zeebe'")),
    # What the retention deletes (shared.runtime.outbox.delete_published), oldest first.
    Index("outbox_published", "published_at", postgresql_where=text("published_at IS NOT NULL")),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # What the retention deletes (shared.runtime.inbox.forget_seen), oldest first.
    Index("inbox_by_age", "received_at"),
)
