"""Closed keys: once the work for a key (an order, say) has been undone, late work for it does nothing.

A job the engine already cancelled may still be running in a worker; together with
`runtime.db.serialise_on`, this marker makes such late work a no-op instead of an orphan.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection


class ClosedKeys:
    """A table of closed keys, e.g. `ClosedKeys(metadata, "closed_orders", "order_id")`."""

    def __init__(self, metadata: MetaData, table: str, key: str) -> None:
        self.table = Table(
            table, metadata,
            Column(key, String(36), primary_key=True),
            Column("closed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        )
        self.key = self.table.c[key]
        # Built once: every job of an order asks, and building a statement costs more CPU than running it.
        self._close = insert(self.table).values({key: bindparam("key")}).on_conflict_do_nothing()
        self._find = select(self.key).where(self.key == bindparam("key"))

    def close(self, session: Connection, key: str) -> None:
        session.execute(self._close, {"key": key})

    def is_closed(self, session: Connection, key: str) -> bool:
        return session.execute(self._find, {"key": key}).first() is not None
