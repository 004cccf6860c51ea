"""Batch operations on orders: cancel or abort every order that matches a filter, as one operation whose items a
background loop works through (shared.runtime.operations), each through the order's own cancel or abort use case,
so each order's work is undone as one cancellation or abort undoes it, and its timeline names the operator."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select

from services.order import commands, db
from services.order.domain import CancelOutcome, OrderEnded, OrderStatus, UnknownOrder
from shared.contracts.order import SERVICE
from shared.runtime.operations import MAX_ITEMS, ItemFailed, Operations
from shared.runtime.outbox import UnitOfWork

ABORT, CANCEL = "abort-orders", "cancel-orders"
operations = Operations(db.operations, db.operation_items)


class TooManyItems(Exception):
    """More orders match than one operation takes."""


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    order_ids: tuple[str, ...] = ()
    placed_before: datetime | None = None
    placed_after: datetime | None = None

    def as_stored(self) -> dict:
        found = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items() if v}
        return {**found, **({"order_ids": list(self.order_ids)} if self.order_ids else {})}


def matching_orders(session: Connection, where: OrderFilter) -> list[str]:
    """The ids of the orders that match, oldest first: all conditions given hold."""
    query = select(db.orders.c.id).order_by(db.orders.c.created_at, db.orders.c.id).limit(MAX_ITEMS + 1)
    if where.status:
        query = query.where(db.orders.c.status == where.status)
    if where.order_ids:
        query = query.where(db.orders.c.id.in_(where.order_ids))
    if where.placed_before:
        query = query.where(db.orders.c.created_at < where.placed_before)
    if where.placed_after:
        query = query.where(db.orders.c.created_at >= where.placed_after)
    ids = list(session.scalars(query))
    if len(ids) > MAX_ITEMS:
        raise TooManyItems(f"more than {MAX_ITEMS} orders match, one operation takes at most {MAX_ITEMS}: "
                           "narrow the filter")
    return ids


def start(session: Connection, kind: str, where: OrderFilter, actor: str, reason: str | None) -> str:
    """The operation cancelling or aborting every order that matches now; its id."""
    stored = {**where.as_stored(), **({"reason": reason} if reason else {})}
    return operations.create(session, kind, stored, actor, matching_orders(session, where))


def _abort(session: Connection, item: Row, order_id: str) -> str:
    try:
        asked = commands.abort_order(UnitOfWork(session, SERVICE), order_id, reason=item.filter["reason"],
                                     actor=item.actor)
    except UnknownOrder as exc:
        raise ItemFailed(f"no order with id {order_id}") from exc
    except OrderEnded as exc:
        order = db.get_order(session, order_id)
        if order.status == OrderStatus.CANCELLED:
            return "already cancelled"
        raise ItemFailed(str(exc)) from exc
    return "ok: abort requested" if asked else "abort requested before"


def _cancel(session: Connection, item: Row, order_id: str) -> str:
    try:
        cancellation, _ = commands.request_cancellation(UnitOfWork(session, SERVICE), order_id, actor=item.actor)
    except UnknownOrder as exc:
        raise ItemFailed(f"no order with id {order_id}") from exc
    if cancellation.outcome is CancelOutcome.REFUSED:
        raise ItemFailed(f"cancellation refused: {cancellation.reason}")
    return "ok: cancellation requested" if cancellation.outcome is CancelOutcome.PENDING else "already cancelled"


def work(session: Connection) -> int:
    """A step of the Order service's operations loop: the item's use case and its result commit together, so an
    order is cancelled or aborted once however the service stops."""
    return operations.work_one(session, {ABORT: _abort, CANCEL: _cancel})
