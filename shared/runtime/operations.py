"""Batch operations: one operator's request over many items (retry these incidents, abort these orders), stored with
its items when it is made, and worked through item by item by a background loop of the service that owns them.

The items are fixed when the operation is created, so a restart halfway neither loses nor adds any: the loop finds
the items still PENDING and goes on. An item is claimed with FOR UPDATE SKIP LOCKED, so replicas share the work
without doing an item twice, and its result is written in the same transaction that claimed it: an item whose
action ran inside that transaction (a use case of the same database) is done exactly once; one whose action is a
call to another system is done again after a crash before its commit, so such actions must be repeatable (an
incident resolved before answers "already resolved", which counts as ok).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fastapi import HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, Row, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.schema import Column, ForeignKey, Index, MetaData, PrimaryKeyConstraint, Table
from sqlalchemy.types import DateTime, Integer, String, Text

from shared.runtime.db import unit_of_work

RUNNING, DONE = "RUNNING", "DONE"
PENDING, OK, ERROR = "PENDING", "OK", "ERROR"
# One operation's items: enough for any real clean-up, few enough that one answer lists them all.
MAX_ITEMS = 1000


class ItemFailed(Exception):
    """An item's action failed for a reason no retry of the item fixes now: it is reported ERROR with the reason."""


def tables(metadata: MetaData) -> tuple[Table, Table]:
    """The two tables of a service's operations, in its metadata (its migration creates them with
    shared.runtime.migrations.create_operations_tables)."""
    operations = Table(
        "operations", metadata,
        Column("id", String(36), primary_key=True),
        Column("kind", String(50), nullable=False),
        Column("filter", JSONB, nullable=False),
        Column("actor", String(255), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("state", String(16), nullable=False),
        Column("total", Integer, nullable=False),
        Column("finished_at", DateTime(timezone=True)),
        Index("operations_by_age", "created_at"),
    )
    items = Table(
        "operation_items", metadata,
        Column("operation_id", String(36), ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("target", String(100), nullable=False),
        Column("state", String(16), nullable=False),
        Column("result", Text),
        Column("done_at", DateTime(timezone=True)),
        PrimaryKeyConstraint("operation_id", "seq"),
        Index("operation_items_pending", "operation_id", "seq", postgresql_where=text("state = 'PENDING'")),
    )
    return operations, items


@dataclass(frozen=True)
class Operations:
    """A service's operations: create one, read it, and work through its items."""

    operations: Table
    items: Table

    def create(self, session: Connection, kind: str, filter_: Mapping, actor: str, targets: Iterable[str]) -> str:
        targets = list(dict.fromkeys(targets))
        operation_id = str(uuid.uuid4())
        session.execute(insert(self.operations).values(
            id=operation_id, kind=kind, filter=dict(filter_), actor=actor, created_at=datetime.now(timezone.utc),
            state=RUNNING if targets else DONE, total=len(targets),
            finished_at=None if targets else datetime.now(timezone.utc)))
        if targets:
            session.execute(insert(self.items), [{"operation_id": operation_id, "seq": seq, "target": target,
                                                  "state": PENDING} for seq, target in enumerate(targets)])
        return operation_id

    def get(self, session: Connection, operation_id: str) -> Row | None:
        return session.execute(self._with_counts().where(self.operations.c.id == operation_id)).first()

    def page(self, session: Connection, limit: int, offset: int, kind: str | None = None) -> tuple[int, list[Row]]:
        """Newest first."""
        where = [self.operations.c.kind == kind] if kind else []
        total = session.scalar(select(func.count()).select_from(self.operations).where(*where))
        rows = session.execute(self._with_counts().where(*where)
                               .order_by(self.operations.c.created_at.desc()).limit(limit).offset(offset)).all()
        return total, rows

    def answer(self, sessions: Engine, operation_id: str) -> OperationView:
        """For a route: the operation with each item's result, or a 404."""
        with unit_of_work(sessions) as session:
            row = self.get(session, operation_id)
            if row is None:
                raise HTTPException(404, detail=f"no operation {operation_id}")
            return view(row, self.items_of(session, operation_id))

    def items_of(self, session: Connection, operation_id: str) -> list[Row]:
        return session.execute(select(self.items).where(self.items.c.operation_id == operation_id)
                               .order_by(self.items.c.seq)).all()

    def _with_counts(self):
        counted = (select(self.items.c.operation_id,
                          func.count().filter(self.items.c.state == OK).label("ok"),
                          func.count().filter(self.items.c.state == ERROR).label("failed"),
                          func.count().filter(self.items.c.state == PENDING).label("pending"))
                   .group_by(self.items.c.operation_id).subquery())
        return (select(self.operations, func.coalesce(counted.c.ok, 0).label("ok"),
                       func.coalesce(counted.c.failed, 0).label("failed"),
                       func.coalesce(counted.c.pending, 0).label("pending"))
                .outerjoin(counted, counted.c.operation_id == self.operations.c.id))

    def forget_finished(self, session: Connection, kept_for: timedelta, batch: int = 200) -> int:
        """For the retention loop: remove up to `batch` operations done and made more than `kept_for` ago, with
        their items; returns how many went. Running ones stay whatever their age."""
        old = session.execute(
            select(self.operations.c.id)
            .where(self.operations.c.state == DONE, self.operations.c.created_at < func.now() - kept_for)
            .order_by(self.operations.c.created_at).limit(batch)
            .with_for_update(skip_locked=True)  # another replica's round takes others
        ).scalars().all()
        if old:
            session.execute(delete(self.items).where(self.items.c.operation_id.in_(old)))
            session.execute(delete(self.operations).where(self.operations.c.id.in_(old)))
        return len(old)

    def work_one(self, session: Connection, actions: Mapping[str, Callable[[Connection, Row, str], str]]) -> int:
        """A step of a polling loop: the oldest pending item of a running operation, claimed, done by its kind's
        action (which returns the result in words, or raises ItemFailed) and recorded; 1 if there was one."""
        item = session.execute(
            select(self.items, self.operations.c.kind, self.operations.c.filter, self.operations.c.actor)
            .join(self.operations, self.operations.c.id == self.items.c.operation_id)
            .where(self.items.c.state == PENDING, self.operations.c.kind.in_(list(actions)))
            .order_by(self.operations.c.created_at, self.items.c.seq)
            .limit(1).with_for_update(of=self.items, skip_locked=True)).first()
        if item is None:
            return 0
        try:
            with session.begin_nested():  # a failed item's writes go; the claim and its result stay
                state, result = OK, actions[item.kind](session, item, item.target)
        except ItemFailed as exc:
            state, result = ERROR, str(exc)
        now = datetime.now(timezone.utc)
        session.execute(update(self.items).where(self.items.c.operation_id == item.operation_id,
                                                 self.items.c.seq == item.seq)
                        .values(state=state, result=result, done_at=now))
        left = session.scalar(select(func.count()).select_from(self.items).where(
            self.items.c.operation_id == item.operation_id, self.items.c.state == PENDING))
        if not left:
            session.execute(update(self.operations).where(self.operations.c.id == item.operation_id)
                            .values(state=DONE, finished_at=now))
        return 1


class ItemView(BaseModel):
    target: str = Field(description="what the item acts on: an incident's key, an order's id")
    state: str = Field(description="PENDING, OK or ERROR")
    result: str | None = Field(description="in words: ok, already resolved, or why it failed")
    done_at: datetime | None


class OperationView(BaseModel):
    id: str
    kind: str
    filter: dict = Field(description="what the operator asked for, as they asked")
    actor: str = Field(description="who asked: their token's subject")
    created_at: datetime
    state: str = Field(description="RUNNING until every item is done, then DONE")
    total: int
    ok: int
    failed: int
    pending: int
    finished_at: datetime | None
    items: list[ItemView] | None = Field(default=None, description="each item's result (one operation's answer)")


def view(row: Row, items: list[Row] | None = None) -> OperationView:
    return OperationView(
        id=row.id, kind=row.kind, filter=row.filter, actor=row.actor, created_at=row.created_at, state=row.state,
        total=row.total, ok=row.ok, failed=row.failed, pending=row.pending, finished_at=row.finished_at,
        items=None if items is None else [ItemView(target=i.target, state=i.state, result=i.result,
                                                   done_at=i.done_at) for i in items])
