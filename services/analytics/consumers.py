"""Analytics reads every event topic and keeps the facts the figures are computed from."""
from __future__ import annotations

from sqlalchemy.engine import Connection

from services.analytics import db
from shared.contracts.delivery import DeliveryCompleted, DeliveryRedispatched
from shared.contracts.factory import ItemsProduced
from shared.contracts.order import OrderCancelled, OrderCompleted, OrderDeliveryFailed, OrderPlaced, OrderRejected
from shared.contracts.warehouse import (
    ReplenishmentRequested,
    ReplenishmentWithdrawn,
    ReservationOutcome,
    StockAllocated,
    StockReserved,
)
from shared.runtime.envelope import Envelope
from shared.runtime.inbox import Subscription


def on_order_placed(session: Connection, event: OrderPlaced, envelope: Envelope) -> None:
    db.record_order(session, event.order_id, placed_at=envelope.time)


def on_stock_reserved(session: Connection, event: StockReserved, envelope: Envelope) -> None:
    db.record_order(session, event.order_id, first_pass_full=event.outcome == ReservationOutcome.FULL,
                    reserved_at=envelope.time)


def on_delivery_completed(session: Connection, event: DeliveryCompleted, envelope: Envelope) -> None:
    # The last delivery of an order ends its lead time; a later one moves it forward.
    db.record_order(session, event.order_id)
    db.set_delivered(session, event.order_id, envelope.time)


def on_order_completed(session: Connection, event: OrderCompleted, envelope: Envelope) -> None:
    db.record_order(session, event.order_id, completed_at=envelope.time)


def on_order_cancelled(session: Connection, event: OrderCancelled, envelope: Envelope) -> None:
    db.record_order(session, event.order_id, cancelled_at=envelope.time)
    db.close_backorders(session, order_id=event.order_id, at=envelope.time)


def on_order_delivery_failed(session: Connection, event: OrderDeliveryFailed, envelope: Envelope) -> None:
    db.record_order(session, event.order_id, delivery_failed_at=envelope.time)


def on_order_rejected(session: Connection, event: OrderRejected, envelope: Envelope) -> None:
    db.record_order(session, event.order_id, rejected_at=envelope.time)


def on_replenishment_requested(session: Connection, event: ReplenishmentRequested, envelope: Envelope) -> None:
    db.record_backorder(session, request_id=event.request_id, order_id=event.order_id, sku=event.sku,
                        quantity=event.quantity, at=envelope.time)


def on_stock_allocated(session: Connection, event: StockAllocated, envelope: Envelope) -> None:
    db.close_backorders(session, order_id=event.order_id, at=envelope.time)


def on_replenishment_withdrawn(session: Connection, event: ReplenishmentWithdrawn, envelope: Envelope) -> None:
    db.close_backorders(session, request_id=event.request_id, at=envelope.time)


def on_items_produced(session: Connection, event: ItemsProduced, envelope: Envelope) -> None:
    db.record_production(session, request_id=event.request_id, sku=event.sku, quantity=event.quantity,
                         at=envelope.time)


def on_delivery_redispatched(session: Connection, event: DeliveryRedispatched, envelope: Envelope) -> None:
    db.record_breach(session, event_id=envelope.id, order_id=event.order_id, at=envelope.time)


SUBSCRIPTIONS = [
    Subscription(OrderPlaced, on_order_placed),
    Subscription(StockReserved, on_stock_reserved),
    Subscription(DeliveryCompleted, on_delivery_completed),
    Subscription(OrderCompleted, on_order_completed),
    Subscription(OrderCancelled, on_order_cancelled),
    Subscription(OrderDeliveryFailed, on_order_delivery_failed),
    Subscription(OrderRejected, on_order_rejected),
    Subscription(ReplenishmentRequested, on_replenishment_requested),
    Subscription(StockAllocated, on_stock_allocated),
    Subscription(ReplenishmentWithdrawn, on_replenishment_withdrawn),
    Subscription(ItemsProduced, on_items_produced),
    Subscription(DeliveryRedispatched, on_delivery_redispatched),
]
