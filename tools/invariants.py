"""What must hold in the services' databases and the engine whatever path orders took, as findings.

Each check returns what breaks it (empty: it holds). The e2e tests assert them after every fulfilment
test; `make chaos` checks them after a soak with crashes (tools/chaos.py).
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Connection, Engine

from services.warehouse.catalog import CATALOG
from tools.orders import FINAL
from tools.stack.config import StackSettings
from tools.stack.records import RecordLog

# A service name to a connection to that service's own database.
Connect = Callable[[str], AbstractContextManager[Connection]]


class Databases:
    """Read access to each service's own database, as its own role: `with databases("order") as db: ...`."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.engines: dict[str, Engine] = {}

    def __call__(self, service: str) -> AbstractContextManager[Connection]:
        if service not in self.engines:
            # A bounded wait for a connection: the soak asks while PostgreSQL may be down.
            self.engines[service] = create_engine(self.settings.database_url(service), pool_pre_ping=True,
                                                  connect_args={"connect_timeout": 5})
        return self.engines[service].connect()

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


def duplicate_shipments(connect: Connect) -> list[tuple[str, int]]:
    """(order, shipment number) packed more than once."""
    with connect("warehouse") as db:
        return [tuple(r) for r in db.execute(text(
            "SELECT order_id, shipment_no FROM shipments GROUP BY order_id, shipment_no HAVING count(*) > 1"))]


def over_picked(connect: Connect) -> list[tuple[str, str]]:
    """(order, SKU) with more units picked than were reserved."""
    with connect("warehouse") as db:
        return [tuple(r) for r in db.execute(text("SELECT order_id, sku FROM reservations WHERE picked > reserved"))]


def duplicate_deliveries(connect: Connect) -> list[str]:
    """Shipments handed to a courier more than once."""
    with connect("delivery") as db:
        return list(db.execute(text(
            "SELECT shipment_id FROM deliveries GROUP BY shipment_id HAVING count(*) > 1")).scalars())


def stock_discrepancies(connect: Connect) -> dict[str, list[int]]:
    """SKU -> [units that entered, units counted] where they differ.

    Every unit that ever entered (catalog seed, operator counts, production) is free, reserved or in a
    packed shipment; a returned shipment's units are free again.
    """
    with connect("warehouse") as db:
        counted = {r.sku: r.on_hand + r.reserved for r in db.execute(text("SELECT sku, on_hand, reserved FROM stock"))}
        shipped = dict(db.execute(text(
            "SELECT l.sku, sum(l.quantity) FROM shipment_lines l JOIN shipments s ON s.id = l.shipment_id "
            "WHERE s.status = 'PACKED' GROUP BY l.sku")).all())
        adjusted = dict(db.execute(text(
            "SELECT sku, sum(quantity) FROM stock_adjustments GROUP BY sku")).all())
    with connect("factory") as db:
        produced = dict(db.execute(text(
            "SELECT sku, sum(quantity) FROM production_orders WHERE status = 'PRODUCED' GROUP BY sku")).all())
    seeded = {item["sku"]: item["on_hand"] for item in CATALOG}
    broken = {}
    for sku, units in counted.items():
        entered = seeded.get(sku, 0) + adjusted.get(sku, 0) + produced.get(sku, 0)
        if units + shipped.get(sku, 0) != entered:
            broken[sku] = [entered, units + shipped.get(sku, 0)]
    return broken


def held_for_ended_orders(connect: Connect) -> list[tuple[str, str, str]]:
    """(order, SKU, what) for stock still held for an order that ended or whose work the warehouse undid:
    unpicked reserved units, or a backorder still open."""
    with connect("warehouse") as db:
        held = [(r.order_id, r.sku, f"{r.units} reserved units not picked") for r in db.execute(text(
            "SELECT order_id, sku, reserved - picked AS units FROM reservations "
            "WHERE status = 'reserved' AND reserved > picked"))]
        held += [(r.order_id, r.sku, f"backorder of {r.quantity} open") for r in db.execute(text(
            "SELECT order_id, sku, quantity FROM backorders WHERE status = 'OPEN'"))]
        if not held:
            return []
        orders = sorted({order_id for order_id, _, _ in held})
        closed = set(db.execute(text("SELECT order_id FROM closed_orders WHERE order_id IN :ids")
                                .bindparams(bindparam("ids", expanding=True)), {"ids": orders}).scalars())
    with connect("order") as db:
        ended = set(db.execute(text("SELECT id FROM orders WHERE id IN :ids AND status IN :final")
                               .bindparams(bindparam("ids", expanding=True), bindparam("final", expanding=True)),
                               {"ids": orders, "final": sorted(FINAL)}).scalars())
    return [entry for entry in held if entry[0] in ended | closed]


def open_orders_without_process(connect: Connect, records: RecordLog, older_than_seconds: float = 5) -> list[str]:
    """Orders not final, placed a while ago, of which no process instance still runs."""
    with connect("order") as db:
        waiting = db.execute(text(
            "SELECT id FROM orders WHERE status NOT IN :final AND created_at < now() - make_interval(secs => :age)")
            .bindparams(bindparam("final", expanding=True)),
            {"final": sorted(FINAL), "age": older_than_seconds}).scalars().all()
    live = records.open_instances_by_variable("orderId")
    return [order_id for order_id in waiting if not live.get(order_id)]

