"""Closed keys: once the work for a key (an order, say) has been undone, late work for it does nothing.

A job the engine already cancelled may still be running in a worker; together with
`shared.runtime.db.serialise_on`, this marker makes such late work a no-op instead of an orphan.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection


class ClosedKeys:
    """A table of closed keys, e.g. `ClosedKeys(metadata, "closed_orders", "order_id")`."""

    def __init__(self, metadata: MetaData, table: str, key: str) -> None:
        self.table = Table(
            table, metadata,
            Column(key, String(36), primary_key=True),
            Column("closed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            # What the retention removes, the longest closed first.
            Index(f"{table}_by_age", "closed_at"),
        )
        self.key = self.table.c[key]
        # Built once: every job of an order asks, and building a statement costs more CPU than running it.
        self._close = insert(self.table).values({key: bindparam("key")}).on_conflict_do_nothing()
        self._find = select(self.key).where(self.key == bindparam("key"))

    def close(self, session: Connection, key: str) -> None:
        session.execute(self._close, {"key": key})

    def is_closed(self, session: Connection, key: str) -> bool:
        return session.execute(self._find, {"key": key}).first() is not None

    def closed_before(self, session: Connection, kept_for: timedelta, batch: int) -> list[str]:
        """Up to `batch` keys closed more than `kept_for` ago, the longest closed first, locked until the transaction
        ends (another replica's retention round takes others)."""
        closed_at = self.table.c.closed_at
        return session.execute(select(self.key).where(closed_at < func.now() - kept_for).order_by(closed_at)
                               .limit(batch).with_for_update(skip_locked=True)).scalars().all()

    def forget(self, session: Connection, keys: list[str]) -> None:
        """Only once no late work for these keys can come any more: it would no longer be a no-op."""
        session.execute(delete(self.table).where(self.key.in_(keys)))
