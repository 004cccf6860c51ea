"""Who did what in the monitor: every operator action (retry, cancel, claim, release, complete, migrate, a batch
operation) with its actor (the token's subject), its target, when and how it ended."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, Row, and_, delete, func, insert, select

from services.monitor.db import audit


@dataclass(frozen=True)
class Entry:
    actor: str
    action: str
    target: str
    result: str
    order_id: str | None = None


def record(session: Connection, entry: Entry) -> None:
    session.execute(insert(audit).values(at=datetime.now(timezone.utc), actor=entry.actor, action=entry.action,
                                         target=entry.target, order_id=entry.order_id, result=entry.result))


def page(session: Connection, *, order_id: str | None, actor: str | None, target: str | None, limit: int,
         offset: int) -> tuple[int, list[Row]]:
    """Newest first."""
    where = and_(True, *([audit.c.order_id == order_id] if order_id else []),
                 *([audit.c.actor == actor] if actor else []), *([audit.c.target == target] if target else []))
    total = session.scalar(select(func.count()).select_from(audit).where(where))
    rows = session.execute(select(audit).where(where).order_by(audit.c.at.desc(), audit.c.id.desc())
                           .limit(limit).offset(offset)).all()
    return total, rows


def forget_old(session: Connection, kept_for: timedelta, batch: int = 1000) -> int:
    """For the retention loop: remove up to `batch` entries older than `kept_for`, oldest first; returns how many
    went. The audit is kept as long as the instances it is about (the monitor's history retention)."""
    oldest = (select(audit.c.id).where(audit.c.at < func.now() - kept_for).order_by(audit.c.at).limit(batch)
              .with_for_update(skip_locked=True))
    return session.execute(delete(audit).where(audit.c.id.in_(oldest.scalar_subquery()))).rowcount
