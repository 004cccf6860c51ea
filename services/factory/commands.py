"""Factory use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from contracts.factory import SERVICE, ItemsProduced
from runtime.outbox import EventPublisher
from services.factory import db

publisher = EventPublisher(source=SERVICE.source, topic=SERVICE.events_topic)


def take_request(session: Session, *, request_id: str, order_id: str, sku: str, quantity: int,
                 production_seconds: float, requested_by_event: str | None = None) -> None:
    """Record a production order; it is produced once `production_seconds` have passed."""
    db.record_request(session, request_id=request_id, order_id=order_id, sku=sku, quantity=quantity,
                      due_at=datetime.now(timezone.utc) + timedelta(seconds=production_seconds),
                      requested_by_event=requested_by_event)


def produce_due(session: Session) -> int:
    """Finish every production order that is due and announce the items."""
    if not db.line_running(session):
        return 0
    now = datetime.now(timezone.utc)
    due = db.claim_due(session, now)
    for order in due:
        db.mark_produced(session, order.request_id, now)
        publisher.publish(session, ItemsProduced(order_id=order.order_id, request_id=order.request_id,
                                                 sku=order.sku, quantity=order.quantity),
                          causation_id=order.requested_by_event)
    return len(due)


def expedite(session: Session, request_id: str) -> bool:
    return db.expedite(session, request_id, datetime.now(timezone.utc))


def withdraw(session: Session, request_id: str) -> bool:
    return db.withdraw(session, request_id)
