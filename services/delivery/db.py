"""Delivery tables and the queries the service needs."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.schema import Column, Index, MetaData, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.types import BigInteger, DateTime, String, Text

from services.delivery.domain import DeliveryStatus
from shared.runtime.closing import ClosedKeys
from shared.runtime.db import signal_on_commit

metadata = MetaData()

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("shipment_id", String(36), nullable=False),
    Column("items", JSONB, nullable=False),
    Column("courier", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    # The trace the delivery command came in (shared/runtime/tracing.py): the courier's delivery continues it.
    Column("traceparent", String(55)),
    # The delivery command is idempotent per order and shipment.
    UniqueConstraint("order_id", "shipment_id", name="deliveries_one_per_shipment"),
    # The courier's round: only deliveries under way, by when they are due.
    Index("deliveries_under_way", "due_at", postgresql_where=text(f"status = '{DeliveryStatus.DISPATCHED}'")),
    Index("deliveries_by_shipment", "shipment_id"),
)

# A shipment no courier would take: a repeated delivery command gives the same answer and no second event.
refusals = Table(
    "refusals", metadata,
    Column("order_id", String(36), nullable=False),
    Column("shipment_id", String(36), nullable=False),
    Column("reason", Text, nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("order_id", "shipment_id", name="refusals_one_per_shipment"),
)

# One row per hand-over, keyed on the Redispatch activity instance that asked for it: a repeated job
# (timed out, crashed after commit, redelivered) finds its row and hands the parcel over no second time.
redispatches = Table(
    "redispatches", metadata,
    Column("element_instance_key", BigInteger, primary_key=True, autoincrement=False),
    Column("delivery_id", String(36), nullable=False),
    Column("courier", String(100), nullable=False),
    Column("redispatched_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The retention removes a delivery's hand-overs with it.
    Index("redispatches_by_delivery", "delivery_id"),
)

# The statements of every delivery's path, built once: building one costs SQLAlchemy more CPU than running it.
_FIND = select(deliveries).where(deliveries.c.order_id == bindparam("order_id"),
                                 deliveries.c.shipment_id == bindparam("shipment_id"))
_GET = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
_INSERT_DELIVERY = insert(deliveries)
_CLAIM_DUE = (select(deliveries)
              .where(deliveries.c.status == DeliveryStatus.DISPATCHED, deliveries.c.due_at <= bindparam("now"))
              .order_by(deliveries.c.due_at).limit(bindparam("limit")).with_for_update(skip_locked=True))
_MARK_DELIVERED = (update(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
                   .values(status=DeliveryStatus.DELIVERED, delivered_at=bindparam("now")))
_FIND_BY_SHIPMENT = select(deliveries).where(deliveries.c.shipment_id == bindparam("shipment_id")).with_for_update()
_FIND_REFUSAL = select(refusals).where(refusals.c.order_id == bindparam("order_id"),
                                      refusals.c.shipment_id == bindparam("shipment_id"))


def find(session: Connection, order_id: str, shipment_id: str):
    return session.execute(_FIND, {"order_id": order_id, "shipment_id": shipment_id}).first()


def get(session: Connection, delivery_id: str):
    return session.execute(_GET, {"delivery_id": delivery_id}).first()


def of_order(session: Connection, order_id: str):
    return session.execute(select(deliveries).where(deliveries.c.order_id == order_id)
                           .order_by(deliveries.c.dispatched_at)).all()


# Signalled when a courier gets a delivery, so a courier due at once does not wait for its next poll.
COURIER_ASSIGNED = "delivery.courier-assigned"


def insert_delivery(session: Connection, **values) -> None:
    session.execute(_INSERT_DELIVERY, {"status": DeliveryStatus.DISPATCHED, **values})
    signal_on_commit(session, COURIER_ASSIGNED)


def claim_due(session: Connection, now: datetime, limit: int = 50):
    """Due deliveries, locked so two courier loops never finish the same one."""
    return session.execute(_CLAIM_DUE, {"now": now, "limit": limit}).all()


def mark_delivered(session: Connection, delivery_id: str, now: datetime) -> None:
    session.execute(_MARK_DELIVERED, {"delivery_id": delivery_id, "now": now})


def of_order_for_update(session: Connection, order_id: str):
    return session.execute(select(deliveries).where(deliveries.c.order_id == order_id)
                           .order_by(deliveries.c.dispatched_at).with_for_update()).all()


def find_by_shipment(session: Connection, shipment_id: str):
    return session.execute(_FIND_BY_SHIPMENT, {"shipment_id": shipment_id}).first()


def set_status(session: Connection, delivery_id: str, status: DeliveryStatus) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(status=status))


def reassign(session: Connection, delivery_id: str, courier: str, due_at: datetime) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(courier=courier, due_at=due_at))
    signal_on_commit(session, COURIER_ASSIGNED)


def find_refusal(session: Connection, order_id: str, shipment_id: str):
    return session.execute(_FIND_REFUSAL, {"order_id": order_id, "shipment_id": shipment_id}).first()


def insert_refusal(session: Connection, **values) -> None:
    session.execute(insert(refusals).values(**values))


def find_redispatch(session: Connection, element_instance_key: int):
    return session.execute(select(redispatches)
                           .where(redispatches.c.element_instance_key == element_instance_key)).first()


def insert_redispatch(session: Connection, **values) -> None:
    session.execute(insert(redispatches).values(**values))


# Marks orders whose work was undone (see shared.runtime.closing).
closed_orders = ClosedKeys(metadata, "closed_orders", "order_id")


def forget_closed_orders(session: Connection, kept_for: timedelta, batch: int = 200) -> int:
    """Remove every row of up to `batch` orders whose deliveries were called back more than `kept_for` ago, with
    their closed mark; returns how many orders went.

    Called back means the order was cancelled or its delivery failed. Any other order keeps its deliveries: the
    service never hears that it completed, and an open order's compensation asks which shipments were delivered.
    """
    order_ids = closed_orders.closed_before(session, kept_for, batch)
    if not order_ids:
        return 0
    of_orders = select(deliveries.c.id).where(deliveries.c.order_id.in_(order_ids))
    session.execute(delete(redispatches).where(redispatches.c.delivery_id.in_(of_orders)))
    for table in (deliveries, refusals):
        session.execute(delete(table).where(table.c.order_id.in_(order_ids)))
    closed_orders.forget(session, order_ids)
    return len(order_ids)
