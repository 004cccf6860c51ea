"""How the monitor moves one order: its root first, then the instances it called; nothing sent when any of them
cannot move by its plan; an order whose root moved and whose shipment the engine refused is reported on mixed
versions (the engine here is a recording stand-in for the monitor's REST client; no I/O)."""
from types import SimpleNamespace

from services.monitor.domain import MigrationPlan
from services.monitor.engine import EngineRefused
from services.monitor.instance_migration import Outcome, _migrate_order, _Move

ROOT_PLAN = MigrationPlan("order-fulfillment", "1", "2", {"Fulfil": "Fulfil", "ShipAvailable": "ShipAvailable"})
SHIPMENT_PLAN = MigrationPlan("order-shipment", "1", "2", {"AwaitDelivery": "AwaitDelivery"})
MOVES = {10: _Move(SimpleNamespace(key=20, version=2), ROOT_PLAN, None),
         11: _Move(SimpleNamespace(key=21, version=2), SHIPMENT_PLAN, None)}
ROOT = SimpleNamespace(key=1, bpmn_process_id="order-fulfillment", order_id="o-1", version=1, definition_key=10)
SHIPMENT = SimpleNamespace(key=2, bpmn_process_id="order-shipment", order_id="o-1", version=1, definition_key=11,
                           parent_key=1)
ACTIVE = {1: ["Fulfil", "ShipAvailable"], 2: ["AwaitDelivery"]}


class Engine:
    def __init__(self, refuses: dict[int, str] | None = None) -> None:
        self.refuses = refuses or {}
        self.sent: list[tuple[int, int]] = []

    def migrate_instance(self, instance_key: int, target_definition_key: int, mapping: dict[str, str]) -> None:
        self.sent.append((instance_key, target_definition_key))
        if instance_key in self.refuses:
            raise EngineRefused(409, self.refuses[instance_key])


def test_the_root_moves_before_the_shipment_it_called_each_to_its_target():
    engine = Engine()
    order = _migrate_order(engine, ROOT, [SHIPMENT], MOVES, ACTIVE, dry_run=False)
    assert engine.sent == [(1, 20), (2, 21)]
    assert order.outcome == Outcome.MIGRATED and order.children[0].outcome == Outcome.MIGRATED
    assert not order.mixed


def test_a_root_the_engine_refuses_keeps_its_shipments_where_they_are():
    engine = Engine(refuses={1: "a concurrent command was executed"})
    order = _migrate_order(engine, ROOT, [SHIPMENT], MOVES, ACTIVE, dry_run=False)
    assert engine.sent == [(1, 20)], "the shipment was not sent"
    assert (order.outcome, order.reason) == (Outcome.REFUSED, "a concurrent command was executed")
    assert order.children[0].outcome == Outcome.LEFT


def test_a_shipment_the_engine_refuses_after_its_root_moved_leaves_the_order_on_mixed_versions_and_says_so():
    engine = Engine(refuses={2: "no"})
    order = _migrate_order(engine, ROOT, [SHIPMENT], MOVES, ACTIVE, dry_run=False)
    assert order.mixed and order.children[0].reason == "no"
    assert "mixed versions" in order.reason


def test_a_shipment_at_an_unmapped_element_refuses_the_whole_order_before_anything_is_sent():
    engine = Engine()
    order = _migrate_order(engine, ROOT, [SHIPMENT], MOVES, {**ACTIVE, 2: ["DecideOverdueDelivery"]}, dry_run=False)
    assert engine.sent == []
    assert order.outcome == Outcome.REFUSED
    assert order.reason == ("its called instance 2 (order-shipment) cannot move: "
                            "element DecideOverdueDelivery is not mapped")


def test_a_dry_run_sends_nothing_and_says_what_would_move():
    engine = Engine()
    order = _migrate_order(engine, ROOT, [SHIPMENT], MOVES, ACTIVE, dry_run=True)
    assert engine.sent == []
    assert [order.outcome, order.children[0].outcome] == [Outcome.WOULD_MIGRATE, Outcome.WOULD_MIGRATE]
