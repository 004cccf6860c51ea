"""Checks that must hold after every fulfilment test, whatever path the orders took."""
from __future__ import annotations

import time

from sqlalchemy import bindparam, text

from services.warehouse.catalog import CATALOG

FINAL = ("COMPLETED", "CANCELLED", "DELIVERY_FAILED")


def check_invariants(service_db, engine_records) -> None:
    _no_duplicates(service_db)
    # Production is announced before the warehouse books it; give the event a moment to arrive.
    broken = {}
    for _ in range(20):
        broken = _stock_conserved(service_db)
        if not broken:
            break
        time.sleep(0.5)
    assert broken == {}, f"stock not conserved (sku: [units that entered, units counted]): {broken}"
    _every_open_order_has_a_live_process(service_db, engine_records)


def _no_duplicates(service_db) -> None:
    with service_db("warehouse") as db:
        duplicates = db.execute(text(
            "SELECT order_id, shipment_no FROM shipments GROUP BY order_id, shipment_no HAVING count(*) > 1")).all()
        assert duplicates == [], f"shipments exist twice: {duplicates}"
        over_picked = db.execute(text("SELECT order_id, sku FROM reservations WHERE picked > reserved")).all()
        assert over_picked == [], f"more picked than reserved: {over_picked}"
    with service_db("delivery") as db:
        twice = db.execute(text(
            "SELECT shipment_id FROM deliveries GROUP BY shipment_id HAVING count(*) > 1")).all()
        assert twice == [], f"a shipment has two deliveries: {twice}"


def _stock_conserved(service_db) -> dict[str, list[int]]:
    """Every unit that ever entered (catalog seed, operator counts, production) is free, reserved or shipped."""
    with service_db("warehouse") as db:
        counted = {r.sku: r.on_hand + r.reserved for r in db.execute(text("SELECT sku, on_hand, reserved FROM stock"))}
        shipped = dict(db.execute(text(
            "SELECT l.sku, sum(l.quantity) FROM shipment_lines l JOIN shipments s ON s.id = l.shipment_id "
            "WHERE s.status = 'PACKED' GROUP BY l.sku")).all())
        adjusted = dict(db.execute(text(
            "SELECT sku, sum(quantity) FROM stock_adjustments GROUP BY sku")).all())
    with service_db("factory") as db:
        produced = dict(db.execute(text(
            "SELECT sku, sum(quantity) FROM production_orders WHERE status = 'PRODUCED' GROUP BY sku")).all())
    seeded = {item["sku"]: item["on_hand"] for item in CATALOG}
    broken = {}
    for sku, units in counted.items():
        expected = seeded.get(sku, 0) + adjusted.get(sku, 0) + produced.get(sku, 0)
        if units + shipped.get(sku, 0) != expected:
            broken[sku] = [expected, units + shipped.get(sku, 0)]
    return broken


def _every_open_order_has_a_live_process(service_db, engine_records) -> None:
    with service_db("order") as db:
        waiting = db.execute(text(
            "SELECT id FROM orders WHERE status NOT IN :final AND created_at < now() - interval '5 seconds'")
            .bindparams(bindparam("final", expanding=True)), {"final": list(FINAL)}).scalars().all()
    live = engine_records.open_instances_by_variable("orderId")
    orphans = [order_id for order_id in waiting if not live.get(order_id)]
    assert orphans == [], f"orders not final but without a live process instance: {orphans}"
