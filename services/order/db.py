"""Order tables and the queries the service needs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, delete, exists, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.schema import Column, ForeignKey, Index, MetaData, Table
from sqlalchemy.types import BigInteger, Boolean, DateTime, Integer, String, Text

from services.order.domain import (
    FINAL_STATUSES,
    TIMELINE_SUMMARY,
    Cancellation,
    CancelOutcome,
    OrderLine,
    OrderStatus,
    Progress,
    Shipment,
    ShipmentStage,
)
from shared.runtime.operations import tables as operation_tables

metadata = MetaData()
# Batch operations on orders and their items (shared.runtime.operations).
operations, operation_items = operation_tables(metadata)
# What an erased order keeps in place of the fingerprint of its request.
ERASED = "erased"
# Timeline entries of the steps between an order's placing and its end: what the retention removes. Written out,
# so the query's condition is the index's to the letter and the planner always takes the index.
_SUMMARY = ", ".join(f"'{status}'" for status in sorted(TIMELINE_SUMMARY))
STEP = text(f"status NOT IN ({_SUMMARY})")

# An order still open, as a literal: the partial index of idle orders (migration 0008) is made with it, and a query
# written with the same literal can use that index (a bound parameter list could not prove the index covers it).
OPEN_SQL = "status NOT IN ('CANCELLED', 'COMPLETED', 'DELIVERY_FAILED', 'REJECTED')"

orders = Table(
    "orders", metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(100), nullable=False),
    # Customer data stays in this database; process variables and events carry ids only. NULL once erased on
    # the customer's request (personal_data_erased_at says when).
    Column("shipping_address", JSONB),
    Column("status", String(32), nullable=False),
    # Why the order has its status, where a status needs a reason (REJECTED: the rules' or the reviewer's).
    Column("status_reason", Text),
    Column("accepts_partial", Boolean, nullable=False, server_default="true"),
    # Facts reported by the other services; the status is derived from them (domain.status_of).
    Column("reserved", Boolean, nullable=False, server_default="false"),
    Column("backorder_open", Boolean, nullable=False, server_default="false"),
    # The customer's own key: unique per customer, so a key another customer happens to use is no conflict.
    Column("idempotency_key", String(200)),
    Column("request_fingerprint", String(64), nullable=False),
    Column("process_instance_key", BigInteger),
    # The order's cancellation request, if any, and its outcome (domain.Cancellation).
    Column("cancel_requested_at", DateTime(timezone=True)),
    Column("cancel_outcome", String(16)),
    Column("cancel_reason", Text),
    Column("cancel_decided_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("personal_data_erased_at", DateTime(timezone=True)),
    # The trace that placed the order (32 hex digits), for a look at its whole path in Zipkin.
    Column("trace_id", String(32)),
    # A customer's own orders, newest first (GET /orders with a customer's token).
    Index("ix_orders_customer_created", "customer_id", "created_at"),
    # Settles a race between two requests with one key (shared.runtime.db.again_if_raced runs the loser again).
    Index("uq_orders_customer_idempotency_key", "customer_id", "idempotency_key", unique=True),
    # Open orders by how long they have been idle: the reconciler's candidates, however many orders are final.
    Index("ix_orders_open_idle", "updated_at", "id",
          postgresql_where=text(OPEN_SQL)),
)

order_lines = Table(
    "order_lines", metadata,
    Column("order_id", String(36), ForeignKey("orders.id"), primary_key=True),
    Column("sku", String(100), primary_key=True),
    Column("quantity", Integer, nullable=False),
)

order_shipments = Table(
    "order_shipments", metadata,
    Column("order_id", String(36), ForeignKey("orders.id"), primary_key=True),
    Column("shipment_id", String(36), primary_key=True),
    Column("stage", String(32), nullable=False),
    # Units packed into it; NULL until the order hears of the packing (delivery events may come first).
    Column("units", Integer),
)

order_timeline = Table(
    "order_timeline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(32), nullable=False),
    # Built from other services' events (a backorder lists every line): no length to outgrow.
    Column("what", Text, nullable=False),
    Column("event_type", String(200)),
    Column("event_id", String(200)),
    # What the retention removes, oldest first.
    Index("order_timeline_steps", "at", postgresql_where=STEP),
)

# The statements of every order's path, built once: building one costs SQLAlchemy more CPU than running it.
_INSERT_ORDER = insert(orders)
_INSERT_LINES = insert(order_lines)
_INSERT_TIMELINE = insert(order_timeline)
_BY_IDEMPOTENCY_KEY = select(orders).where(orders.c.customer_id == bindparam("customer_id"),
                                           orders.c.idempotency_key == bindparam("key"))
_ORDER = select(orders).where(orders.c.id == bindparam("order_id"))
_ORDER_LOCKED = _ORDER.with_for_update()
_UNITS_ORDERED = (select(func.coalesce(func.sum(order_lines.c.quantity), 0))
                  .where(order_lines.c.order_id == orders.c.id).scalar_subquery().label("units_ordered"))
_LOCK_FOR_PROGRESS = (select(orders, _UNITS_ORDERED).where(orders.c.id == bindparam("order_id"))
                      .with_for_update(of=orders))
_SHIPMENTS = select(order_shipments).where(order_shipments.c.order_id == bindparam("order_id"))
_upsert = pg_insert(order_shipments)
_SAVE_SHIPMENT = _upsert.on_conflict_do_update(
    index_elements=["order_id", "shipment_id"], set_={"stage": _upsert.excluded.stage, "units": _upsert.excluded.units})
_SAVE_PROGRESS = update(orders).where(orders.c.id == bindparam("order_id")).values(
    status=bindparam("status"), reserved=bindparam("reserved"), backorder_open=bindparam("backorder_open"),
    updated_at=func.now())
_SET_PROCESS_INSTANCE = (update(orders).where(orders.c.id == bindparam("order_id"))
                         .values(process_instance_key=bindparam("key")))


OPEN = text(OPEN_SQL)
# What domain.waiting_for says, in SQL: a person's review, an open backorder, or a shipment out with a courier.
WAITING_BY_DESIGN = (orders.c.status == OrderStatus.IN_REVIEW.value) | orders.c.backorder_open | exists().where(
    order_shipments.c.order_id == orders.c.id, order_shipments.c.stage == ShipmentStage.IN_DELIVERY.value)
_LAST_ENTRY = (select(order_timeline.c.what).where(order_timeline.c.order_id == orders.c.id)
               .order_by(order_timeline.c.at.desc(), order_timeline.c.id.desc()).limit(1).scalar_subquery())


def idle_orders(session: Connection, idle_for: timedelta, *, reported_as: str | None, after: tuple | None, limit: int):
    """Open orders not waiting by design with no progress for `idle_for`, oldest first, a page at a time
    (`after`: the (updated_at, id) of the last one of the page before). `reported_as`: leave out those whose
    latest timeline entry starts with it."""
    idle = func.extract("epoch", func.now() - orders.c.updated_at)
    query = (select(orders.c.id, orders.c.status, orders.c.reserved, orders.c.backorder_open, orders.c.updated_at,
                    idle.label("idle"))
             .where(OPEN, orders.c.updated_at < func.now() - idle_for,
                    ~WAITING_BY_DESIGN)
             .order_by(orders.c.updated_at, orders.c.id).limit(limit))
    if reported_as is not None:
        query = query.where(func.coalesce(_LAST_ENTRY, "").not_like(f"{reported_as}%"))
    if after is not None:
        query = query.where(tuple_(orders.c.updated_at, orders.c.id) > tuple_(*after))
    return session.execute(query).all()


def count_idle_orders(session: Connection, idle_for: timedelta) -> tuple[int, float]:
    """How many open orders not waiting by design have had no progress for `idle_for`, and the longest idle's
    seconds (0 when none): the stalled orders, counted in SQL whatever their number."""
    idle = func.extract("epoch", func.now() - func.min(orders.c.updated_at))
    count, longest = session.execute(select(func.count(), idle).where(
        OPEN, orders.c.updated_at < func.now() - idle_for, ~WAITING_BY_DESIGN)).one()
    return count, float(longest or 0)


def insert_order(session: Connection, *, order_id: str, customer_id: str, shipping_address: dict,
                 lines: list[OrderLine], accepts_partial: bool, idempotency_key: str | None,
                 fingerprint: str, trace_id: str | None = None) -> None:
    session.execute(_INSERT_ORDER, {
        "id": order_id, "customer_id": customer_id, "shipping_address": shipping_address,
        "status": OrderStatus.PLACED, "accepts_partial": accepts_partial, "idempotency_key": idempotency_key,
        "request_fingerprint": fingerprint, "trace_id": trace_id,
    })
    session.execute(_INSERT_LINES, [{"order_id": order_id, "sku": l.sku, "quantity": l.quantity} for l in lines])
    add_timeline(session, order_id, OrderStatus.PLACED, "order placed")


# The review rules ask whether a customer is new or known; beyond this many earlier orders the answer is the same,
# so the count stops there and stays cheap for a customer with many orders.
EARLIER_ORDERS_COUNTED = 100


def earlier_orders(session: Connection, customer_id: str) -> int:
    """How many orders the customer has placed so far, up to EARLIER_ORDERS_COUNTED."""
    placed = select(orders.c.id).where(orders.c.customer_id == customer_id).limit(EARLIER_ORDERS_COUNTED).subquery()
    return session.scalar(select(func.count()).select_from(placed))


def set_status_reason(session: Connection, order_id: str, reason: str) -> None:
    session.execute(update(orders).where(orders.c.id == order_id).values(status_reason=reason))


def find_by_idempotency_key(session: Connection, customer_id: str, key: str):
    """The customer's order placed with this key, if any."""
    return session.execute(_BY_IDEMPOTENCY_KEY, {"customer_id": customer_id, "key": key}).first()


def get_order(session: Connection, order_id: str, *, for_update: bool = False):
    return session.execute(_ORDER_LOCKED if for_update else _ORDER, {"order_id": order_id}).first()


def get_lines(session: Connection, order_id: str) -> list[OrderLine]:
    rows = session.execute(select(order_lines).where(order_lines.c.order_id == order_id)
                           .order_by(order_lines.c.sku)).all()
    return [OrderLine(r.sku, r.quantity) for r in rows]


def get_timeline(session: Connection, order_id: str):
    return session.execute(select(order_timeline).where(order_timeline.c.order_id == order_id)
                           .order_by(order_timeline.c.at, order_timeline.c.id)).all()


def list_orders(session: Connection, *, status: str | None, customer_id: str | None, limit: int, offset: int):
    query = select(orders).order_by(orders.c.created_at.desc()).limit(limit).offset(offset)
    if status:
        query = query.where(orders.c.status == status)
    if customer_id is not None:
        query = query.where(orders.c.customer_id == customer_id)
    return session.execute(query).all()


def orders_of_customer(session: Connection, customer_id: str):
    """Every order of a customer, locked, in id order (one lock order for every caller)."""
    return session.execute(select(orders).where(orders.c.customer_id == customer_id)
                           .order_by(orders.c.id).with_for_update()).all()


def erase_personal_data(session: Connection, order_ids: list[str], at: datetime) -> None:
    """The address goes, and with it the request's fingerprint (a hash of it); ids, lines and history stay."""
    if order_ids:
        session.execute(update(orders).where(orders.c.id.in_(order_ids))
                        .values(shipping_address=None, request_fingerprint=ERASED, personal_data_erased_at=at))


def add_timeline(session: Connection, order_id: str, status: str, what: str, *,
                 event_type: str | None = None, event_id: str | None = None,
                 at: datetime | None = None) -> None:
    session.execute(_INSERT_TIMELINE, {"order_id": order_id, "at": at or datetime.now(timezone.utc), "status": status,
                                       "what": what, "event_type": event_type, "event_id": event_id})


def has_timeline_entry(session: Connection, order_id: str, what: str, *, event_id: str) -> bool:
    return session.scalar(select(exists().where(order_timeline.c.order_id == order_id, order_timeline.c.what == what,
                                                order_timeline.c.event_id == event_id)))


def forget_steps_of_final_orders(session: Connection, kept_for: timedelta, batch: int = 1000) -> int:
    """Remove up to `batch` timeline entries of orders that have been final and unchanged for `kept_for`, oldest
    first, all but the summary (domain.TIMELINE_SUMMARY); returns how many went.

    An order that is not final keeps every entry, however old. The order, its lines and shipments stay: a customer
    may look it up.
    """
    cutoff = func.now() - kept_for
    final_long = select(orders.c.id).where(orders.c.id == order_timeline.c.order_id,
                                           orders.c.status.in_(sorted(FINAL_STATUSES)), orders.c.updated_at < cutoff)
    steps = (select(order_timeline.c.id).where(STEP, order_timeline.c.at < cutoff, final_long.exists())
             .order_by(order_timeline.c.at).limit(batch)
             .with_for_update(skip_locked=True))  # another replica's round takes others
    return session.execute(delete(order_timeline).where(order_timeline.c.id.in_(steps))).rowcount


def lock_for_progress(session: Connection, order_id: str):
    """The order, locked, with `units_ordered`, what its lines add up to: all that taking in a report reads."""
    return session.execute(_LOCK_FOR_PROGRESS, {"order_id": order_id}).first()


def get_shipments(session: Connection, order_id: str) -> dict[str, Shipment]:
    rows = session.execute(_SHIPMENTS, {"order_id": order_id}).all()
    return {r.shipment_id: Shipment(ShipmentStage(r.stage), r.units) for r in rows}


def save_progress(session: Connection, order_id: str, progress: Progress, status: OrderStatus,
                  shipments: dict[str, Shipment]) -> None:
    for shipment_id, shipment in shipments.items():
        session.execute(_SAVE_SHIPMENT, {"order_id": order_id, "shipment_id": shipment_id, "stage": shipment.stage,
                                         "units": shipment.units})
    session.execute(_SAVE_PROGRESS, {"order_id": order_id, "status": status, "reserved": progress.reserved,
                                     "backorder_open": progress.backorder_open})


def cancellation_of(order) -> Cancellation | None:
    if order.cancel_requested_at is None:
        return None
    return Cancellation(order.cancel_requested_at, CancelOutcome(order.cancel_outcome), order.cancel_reason,
                        order.cancel_decided_at)


def save_cancellation(session: Connection, order_id: str, cancellation: Cancellation) -> None:
    session.execute(update(orders).where(orders.c.id == order_id).values(
        cancel_requested_at=cancellation.requested_at, cancel_outcome=cancellation.outcome,
        cancel_reason=cancellation.reason, cancel_decided_at=cancellation.decided_at, updated_at=func.now()))


def set_process_instance(session: Connection, order_id: str, process_instance_key: int) -> None:
    session.execute(_SET_PROCESS_INSTANCE, {"order_id": order_id, "key": process_instance_key})


# --- The catalog, as the Warehouse announces it (fulfilment.warehouse.sku-listed.v1): the SKUs an order may name.

catalog_skus = Table(
    "catalog_skus", metadata,
    Column("sku", String(100), primary_key=True),
    Column("name", Text, nullable=False),
    Column("listed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

_LISTED = select(catalog_skus.c.sku).where(catalog_skus.c.sku.in_(bindparam("skus", expanding=True)))
_listing = pg_insert(catalog_skus)
_LIST_SKU = _listing.on_conflict_do_update(index_elements=["sku"], set_={"name": _listing.excluded.name})


def listed_skus(session: Connection, skus: set[str]) -> set[str]:
    """Which of these SKUs are in the catalog."""
    return set(session.execute(_LISTED, {"skus": list(skus)}).scalars())


def list_sku(session: Connection, sku: str, name: str) -> None:
    """In the catalog from now on; listed again, it keeps its first `listed_at` and takes the name announced last."""
    session.execute(_LIST_SKU, {"sku": sku, "name": name})


def catalog_sku(session: Connection, sku: str):
    return session.execute(select(catalog_skus).where(catalog_skus.c.sku == sku)).first()
