"""Order use cases: each runs in one unit of work and writes its events to the outbox."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.order import db
from services.order.domain import OrderLine, OrderStatus, check_idempotent_retry, normalise_lines, request_fingerprint
from services.order.events import ORDER_PLACED_MESSAGE, Line, OrderCompleted, OrderPlaced
from shared.outbox import EventPublisher, add_zeebe_message
from shared.topics import events_topic

publisher = EventPublisher(source="/fulfilment/order", topic=events_topic("order"))


@dataclass(frozen=True)
class Placed:
    order_id: str
    created: bool


def place_order(session: Session, *, customer_id: str, items: list[OrderLine], shipping_address: dict,
                accepts_partial: bool, idempotency_key: str | None, deadlines: dict[str, str]) -> Placed:
    """Store the order and, in the same transaction, the event and the message that starts its process."""
    lines = normalise_lines(items)
    fingerprint = request_fingerprint({
        "customer_id": customer_id,
        "items": [{"sku": l.sku, "quantity": l.quantity} for l in lines],
        "shipping_address": shipping_address,
        "accepts_partial": accepts_partial,
    })
    if idempotency_key:
        existing = db.find_by_idempotency_key(session, idempotency_key)
        if existing is not None:
            check_idempotent_retry(existing.request_fingerprint, fingerprint)
            return Placed(existing.id, created=False)
    order_id = str(uuid.uuid4())
    db.insert_order(session, order_id=order_id, customer_id=customer_id, shipping_address=shipping_address,
                    lines=lines, accepts_partial=accepts_partial, idempotency_key=idempotency_key,
                    fingerprint=fingerprint)
    wire_items = [Line(sku=l.sku, quantity=l.quantity) for l in lines]
    publisher.publish(session, OrderPlaced(order_id=order_id, customer_id=customer_id, items=wire_items))
    # Ids and line items only: customer data never enters the process.
    add_zeebe_message(session, name=ORDER_PLACED_MESSAGE, correlation_key=order_id, message_id=order_id,
                      variables={"orderId": order_id, "items": [i.model_dump() for i in wire_items],
                                 "acceptsPartial": accepts_partial, **deadlines})
    return Placed(order_id, created=True)


def complete_order(session: Session, order_id: str, process_instance_key: int) -> bool:
    """The last step of the process; False if the order does not exist."""
    order = db.get_order(session, order_id, for_update=True)
    if order is None:
        return False
    if order.status == OrderStatus.COMPLETED:
        return True  # a retried job: already done
    db.set_process_instance(session, order_id, process_instance_key)
    db.record_progress(session, order_id, "order completed", reported=OrderStatus.COMPLETED,
                       final=OrderStatus.COMPLETED)
    publisher.publish(session, OrderCompleted(order_id=order_id))
    return True
