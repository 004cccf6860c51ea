"""Checks that must hold after every fulfilment test, whatever path the orders took (tools/invariants.py)."""
from __future__ import annotations

import time

from tools import invariants


def check_invariants(service_db, engine_records) -> None:
    assert invariants.duplicate_shipments(service_db) == [], "shipments exist twice"
    assert invariants.over_picked(service_db) == [], "more picked than reserved"
    assert invariants.duplicate_deliveries(service_db) == [], "a shipment has two deliveries"
    # Production is announced before the warehouse books it; give the event a moment to arrive.
    broken = {}
    for _ in range(20):
        broken = invariants.stock_discrepancies(service_db)
        if not broken:
            break
        time.sleep(0.5)
    assert broken == {}, f"stock not conserved (sku: [units that entered, units counted]): {broken}"
    assert invariants.held_for_ended_orders(service_db) == [], "stock held for orders that ended"
    assert invariants.open_orders_without_process(service_db, engine_records) == [], \
        "orders not final but without a live process instance"
