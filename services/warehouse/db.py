"""Warehouse tables and the queries the service needs."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlalchemy.schema import Column, ForeignKey, MetaData, Table, UniqueConstraint
from sqlalchemy.types import Boolean, DateTime, Integer, String

from services.warehouse.domain import BackorderStatus, ReservationStatus, ShipmentStatus, StockLevel
from shared.runtime.closing import ClosedKeys

metadata = MetaData()

stock = Table(
    "stock", metadata,
    Column("sku", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, server_default="0"),
    # Goes up with every change of on_hand or reserved: the ETag an operator's count is checked against.
    Column("version", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

stock_adjustments = Table(
    "stock_adjustments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(100), ForeignKey("stock.sku"), nullable=False),
    # Units that entered (+) or left (-) the warehouse; added units may have gone to backorders, so
    # free stock can grow by less.
    Column("quantity", Integer, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("on_hand_before", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    # An operator's Idempotency-Key: a retried adjustment is found here instead of applied twice.
    Column("idempotency_key", String(200), unique=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Who made it (their token's subject); none for the changes made before it was kept.
    Column("actor", String(255)),
)

reservations = Table(
    "reservations", metadata,
    Column("order_id", String(36), primary_key=True),
    Column("sku", String(100), ForeignKey("stock.sku"), primary_key=True),
    Column("requested", Integer, nullable=False),
    # Units set aside for the order so far: at reservation, then from arrivals for its backorder.
    Column("reserved", Integer, nullable=False),
    # Of those, units already picked into a shipment.
    Column("picked", Integer, nullable=False, server_default="0"),
    # reserved -> released when the order is cancelled before shipping
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

backorders = Table(
    "backorders", metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False, index=True),
    Column("sku", String(100), ForeignKey("stock.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("allocated", Integer, nullable=False, server_default="0"),
    # OPEN -> ALLOCATED when every unit arrived, or WITHDRAWN when the order is cancelled
    Column("status", String(16), nullable=False),
    Column("expedited", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("order_id", "sku", name="backorders_one_per_order_line"),
)

shipments = Table(
    "shipments", metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    # 1 for what ships at once, 2 for what ships after the backorder arrived.
    Column("shipment_no", Integer, nullable=False),
    # PACKED -> RETURNED when the delivery failed or the order was cancelled
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("order_id", "shipment_no", name="shipments_one_per_order_and_number"),
)

shipment_lines = Table(
    "shipment_lines", metadata,
    Column("shipment_id", String(36), ForeignKey("shipments.id"), primary_key=True),
    Column("sku", String(100), primary_key=True),
    Column("quantity", Integer, nullable=False),
)

# The statements of every order's path, built once: building one costs SQLAlchemy more CPU than running it.
_LOCK_STOCK = (select(stock).where(stock.c.sku.in_(bindparam("skus", expanding=True)))
               .order_by(stock.c.sku).with_for_update())
# (An UPDATE's bind parameters must not be named after its table's columns: SQLAlchemy keeps those names for SET.)
_SAVE_STOCK = (update(stock)
               .where(stock.c.sku == bindparam("sku_key"),
                      or_(stock.c.on_hand != bindparam("new_on_hand"), stock.c.reserved != bindparam("new_reserved")))
               .values(on_hand=bindparam("new_on_hand"), reserved=bindparam("new_reserved"),
                       version=stock.c.version + 1, updated_at=func.now()))
_RESERVATIONS = (select(reservations).where(reservations.c.order_id == bindparam("order_id"))
                 .order_by(reservations.c.sku))
_RESERVATIONS_LOCKED = _RESERVATIONS.with_for_update()
_INSERT_RESERVATIONS = insert(reservations)
_ADD_PICKED = (update(reservations)
               .where(reservations.c.order_id == bindparam("order_key"), reservations.c.sku == bindparam("sku_key"))
               .values(picked=reservations.c.picked + bindparam("quantity")))
_BACKORDERS = select(backorders).where(backorders.c.order_id == bindparam("order_id")).order_by(backorders.c.sku)
_SHIPMENT = select(shipments).where(shipments.c.order_id == bindparam("order_id"),
                                    shipments.c.shipment_no == bindparam("shipment_no"))
_SHIPMENT_LINES = (select(shipment_lines).where(shipment_lines.c.shipment_id == bindparam("shipment_id"))
                   .order_by(shipment_lines.c.sku))
_INSERT_SHIPMENT = insert(shipments)
_INSERT_SHIPMENT_LINES = insert(shipment_lines)


def lock_stock(session: Connection, skus: Iterable[str]) -> dict[str, StockLevel]:
    """Row locks in SKU order, so concurrent reservations cannot deadlock or oversell; unknown SKUs are left out."""
    rows = session.execute(_LOCK_STOCK, {"skus": sorted(set(skus))}).all()
    return {r.sku: StockLevel(r.sku, r.on_hand, r.reserved, r.version) for r in rows}


def save_stock(session: Connection, levels: dict[str, StockLevel]) -> None:
    """Writes the levels that changed, each with its next version (an unchanged level keeps its ETag)."""
    for level in levels.values():
        session.execute(_SAVE_STOCK, {"sku_key": level.sku, "new_on_hand": level.on_hand,
                                      "new_reserved": level.reserved})


def all_stock(session: Connection, limit: int, offset: int):
    return session.execute(select(stock).order_by(stock.c.sku).limit(limit).offset(offset)).all()


def stock_item(session: Connection, sku: str):
    return session.execute(select(stock).where(stock.c.sku == sku)).first()


def insert_sku(session: Connection, sku: str, name: str) -> bool:
    """Adds a SKU with no stock; False if it exists already (perhaps added a moment ago by someone else)."""
    return session.execute(insert(stock).values(sku=sku, name=name, on_hand=0, reserved=0)
                           .on_conflict_do_nothing().returning(stock.c.sku)).first() is not None


def record_adjustment(session: Connection, sku: str, quantity: int, reason: str, on_hand_before: int,
                      on_hand_after: int, actor: str, idempotency_key: str | None = None):
    """Every operator change is kept with who made it, so stock can be reconciled later."""
    return session.execute(insert(stock_adjustments).values(
        sku=sku, quantity=quantity, reason=reason, on_hand_before=on_hand_before, on_hand_after=on_hand_after,
        actor=actor, idempotency_key=idempotency_key,
    ).returning(stock_adjustments)).one()


def adjustment_with_key(session: Connection, idempotency_key: str):
    return session.execute(select(stock_adjustments)
                           .where(stock_adjustments.c.idempotency_key == idempotency_key)).first()


def reservations_of(session: Connection, order_id: str, *, for_update: bool = False):
    return session.execute(_RESERVATIONS_LOCKED if for_update else _RESERVATIONS, {"order_id": order_id}).all()


def insert_reservations(session: Connection, order_id: str, lines) -> None:
    session.execute(_INSERT_RESERVATIONS, [
        {"order_id": order_id, "sku": l.sku, "requested": l.requested, "reserved": l.reserved,
         "status": ReservationStatus.RESERVED}
        for l in lines
    ])


def add_to_reservation(session: Connection, order_id: str, sku: str, quantity: int) -> None:
    session.execute(update(reservations).where(reservations.c.order_id == order_id, reservations.c.sku == sku)
                    .values(reserved=reservations.c.reserved + quantity))


def add_picked(session: Connection, order_id: str, picked: list[tuple[str, int]]) -> None:
    for sku, quantity in picked:
        session.execute(_ADD_PICKED, {"order_key": order_id, "sku_key": sku, "quantity": quantity})


def insert_backorders(session: Connection, order_id: str, missing: list[tuple[str, str, int]]) -> None:
    session.execute(insert(backorders), [
        {"id": backorder_id, "order_id": order_id, "sku": sku, "quantity": quantity,
         "status": BackorderStatus.OPEN}
        for backorder_id, sku, quantity in missing
    ])


def backorders_of(session: Connection, order_id: str):
    return session.execute(_BACKORDERS, {"order_id": order_id}).all()


def open_backorders_for(session: Connection, sku: str):
    """Oldest first: arrivals are allocated first come, first served.

    Not locked here: only a holder of the SKU's stock row lock opens, fills or withdraws them, so the
    caller holds that lock and then locks the backorders it changes with `lock_backorders_of`.
    """
    return session.execute(select(backorders)
                           .where(backorders.c.sku == sku, backorders.c.status == BackorderStatus.OPEN)
                           .order_by(backorders.c.created_at, backorders.c.id)).all()


def lock_backorders_of(session: Connection, order_ids: Iterable[str]) -> None:
    """Row locks on every backorder of these orders, by order id and SKU (the lock order in docs/architecture.md)."""
    ids = sorted(set(order_ids))
    if ids:
        session.execute(select(backorders.c.id).where(backorders.c.order_id.in_(ids))
                        .order_by(backorders.c.order_id, backorders.c.sku).with_for_update()).all()


def allocate_to_backorder(session: Connection, backorder_id: str, quantity: int) -> None:
    """Counts arrived units towards the backorder; whether that completes it is the domain's call."""
    session.execute(update(backorders).where(backorders.c.id == backorder_id)
                    .values(allocated=backorders.c.allocated + quantity))


def shipment_of(session: Connection, order_id: str, shipment_no: int):
    return session.execute(_SHIPMENT, {"order_id": order_id, "shipment_no": shipment_no}).first()


def shipment_lines_of(session: Connection, shipment_id: str):
    return session.execute(_SHIPMENT_LINES, {"shipment_id": shipment_id}).all()


def insert_shipment(session: Connection, shipment_id: str, order_id: str, shipment_no: int,
                    lines: list[tuple[str, int]]) -> None:
    session.execute(_INSERT_SHIPMENT, {"id": shipment_id, "order_id": order_id, "shipment_no": shipment_no,
                                       "status": ShipmentStatus.PACKED})
    session.execute(_INSERT_SHIPMENT_LINES,
                    [{"shipment_id": shipment_id, "sku": sku, "quantity": q} for sku, q in lines])


def shipments_of_order(session: Connection, order_id: str):
    return session.execute(select(shipments).where(shipments.c.order_id == order_id)
                           .order_by(shipments.c.shipment_no).with_for_update()).all()


def set_shipment_status(session: Connection, shipment_id: str, status: ShipmentStatus) -> None:
    session.execute(update(shipments).where(shipments.c.id == shipment_id).values(status=status))


def release_reservations(session: Connection, order_id: str) -> None:
    session.execute(update(reservations).where(reservations.c.order_id == order_id)
                    .values(status=ReservationStatus.RELEASED))


def set_backorder_status(session: Connection, backorder_id: str, status: BackorderStatus) -> None:
    session.execute(update(backorders).where(backorders.c.id == backorder_id).values(status=status))


def flag_expedited(session: Connection, order_id: str) -> list:
    """Marks the order's open backorders expedited; returns those not flagged before."""
    return session.execute(update(backorders)
                           .where(backorders.c.order_id == order_id, backorders.c.status == BackorderStatus.OPEN,
                                  backorders.c.expedited.is_(False))
                           .values(expedited=True).returning(backorders.c.id)).all()



# Marks orders whose work was undone (see shared.runtime.closing).
closed_orders = ClosedKeys(metadata, "closed_orders", "order_id")


def forget_closed_orders(session: Connection, kept_for: timedelta, batch: int = 200) -> int:
    """Remove every row of up to `batch` orders whose stock was released more than `kept_for` ago, with their closed
    mark; returns how many orders went.

    Released means the order was cancelled or its delivery failed: nothing of it is reserved, packed or awaited any
    more. An order that completed keeps its rows: the warehouse never hears of that end, and an open order's
    compensation reads its reservations and shipments.
    """
    order_ids = closed_orders.closed_before(session, kept_for, batch)
    if not order_ids:
        return 0
    shipped = select(shipments.c.id).where(shipments.c.order_id.in_(order_ids))
    session.execute(delete(shipment_lines).where(shipment_lines.c.shipment_id.in_(shipped)))
    for table in (shipments, backorders, reservations):
        session.execute(delete(table).where(table.c.order_id.in_(order_ids)))
    closed_orders.forget(session, order_ids)
    return len(order_ids)
