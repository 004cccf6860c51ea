"""Analytics reads every event topic and keeps the facts the figures are computed from."""
from __future__ import annotations

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
from shared.runtime.outbox import UnitOfWork


def on_order_placed(uow: UnitOfWork, event: OrderPlaced, envelope: Envelope) -> None:
    db.record_order(uow.session, event.order_id, placed_at=envelope.time)


def on_stock_reserved(uow: UnitOfWork, event: StockReserved, envelope: Envelope) -> None:
    db.record_order(uow.session, event.order_id, first_pass_full=event.outcome == ReservationOutcome.FULL,
                    reserved_at=envelope.time)


def on_delivery_completed(uow: UnitOfWork, event: DeliveryCompleted, envelope: Envelope) -> None:
    # The last delivery of an order ends its lead time; a later one moves it forward.
    db.record_order(uow.session, event.order_id)
    db.set_delivered(uow.session, event.order_id, envelope.time)


def on_order_completed(uow: UnitOfWork, event: OrderCompleted, envelope: Envelope) -> None:
    db.record_order(uow.session, event.order_id, completed_at=envelope.time)


def on_order_cancelled(uow: UnitOfWork, event: OrderCancelled, envelope: Envelope) -> None:
    db.record_order(uow.session, event.order_id, cancelled_at=envelope.time)
    db.close_backorders(uow.session, order_id=event.order_id, at=envelope.time)


def on_order_delivery_failed(uow: UnitOfWork, event: OrderDeliveryFailed, envelope: Envelope) -> None:
    db.record_order(uow.session, event.order_id, delivery_failed_at=envelope.time)


def on_order_rejected(uow: UnitOfWork, event: OrderRejected, envelope: Envelope) -> None:
    db.record_order(uow.session, event.order_id, rejected_at=envelope.time)


def on_replenishment_requested(uow: UnitOfWork, event: ReplenishmentRequested, envelope: Envelope) -> None:
    db.record_backorder(uow.session, request_id=event.request_id, order_id=event.order_id, sku=event.sku,
                        quantity=event.quantity, at=envelope.time)


def on_stock_allocated(uow: UnitOfWork, event: StockAllocated, envelope: Envelope) -> None:
    db.close_backorders(uow.session, order_id=event.order_id, at=envelope.time)


def on_replenishment_withdrawn(uow: UnitOfWork, event: ReplenishmentWithdrawn, envelope: Envelope) -> None:
    db.close_backorders(uow.session, request_id=event.request_id, at=envelope.time)


def on_items_produced(uow: UnitOfWork, event: ItemsProduced, envelope: Envelope) -> None:
    db.record_production(uow.session, request_id=event.request_id, sku=event.sku, quantity=event.quantity,
                         at=envelope.time)


def on_delivery_redispatched(uow: UnitOfWork, event: DeliveryRedispatched, envelope: Envelope) -> None:
    db.record_breach(uow.session, event_id=envelope.id, order_id=event.order_id, at=envelope.time)


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
