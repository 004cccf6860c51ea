"""Factory use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

from datetime import datetime, timezone

from services.factory import db
from services.factory.domain import ProductionOrder
from shared.contracts.factory import ItemsProduced
from shared.runtime.outbox import UnitOfWork
from shared.runtime.tracing import continued, current_traceparent


def take_request(uow: UnitOfWork, *, request_id: str, order_id: str, sku: str, quantity: int,
                 production_seconds: float, requested_by_event: str | None = None) -> None:
    """Record a production order; it is produced once `production_seconds` have passed."""
    db.record_request(uow.session, ProductionOrder.requested(
        request_id=request_id, order_id=order_id, sku=sku, quantity=quantity, now=datetime.now(timezone.utc),
        production_seconds=production_seconds, requested_by_event=requested_by_event,
    ), current_traceparent())


def produce_due(uow: UnitOfWork) -> int:
    """Finish every production order that is due and announce the items; a stopped line locks nothing."""
    if not db.line_running(uow.session):
        return 0
    now = datetime.now(timezone.utc)
    produced = [(order.produced(now), trace) for order, trace in db.claim_due(uow.session, now) if order.is_due(now)]
    for order, trace in produced:
        db.save_if_unstarted(uow.session, order)
        # In the trace of the request, which the order's placement started.
        with continued("factory.produce", trace, attributes={"fulfil.order_id": order.order_id,
                                                             "fulfil.request_id": order.request_id}):
            uow.publish(ItemsProduced(order_id=order.order_id, request_id=order.request_id,
                                      sku=order.sku, quantity=order.quantity),
                        causation_id=order.requested_by_event)
    return len(produced)


def expedite(uow: UnitOfWork, request_id: str) -> bool:
    """False if the production order is unknown, produced or withdrawn."""
    order = db.lock_production_order(uow.session, request_id)
    if order is None or not order.can_expedite():
        return False
    return db.save_if_unstarted(uow.session, order.expedite(datetime.now(timezone.utc)))


def withdraw(uow: UnitOfWork, request_id: str) -> bool:
    """False if the production order is unknown, produced or withdrawn."""
    order = db.lock_production_order(uow.session, request_id)
    if order is None or not order.can_withdraw():
        return False
    return db.save_if_unstarted(uow.session, order.withdraw())
