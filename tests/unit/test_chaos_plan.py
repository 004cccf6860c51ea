"""The soak's plan: kills spread over every component and replica, and orders that take every path."""
import random
from collections import Counter

from tools.chaos.customers import Ledger
from tools.chaos.faults import Outcome
from tools.chaos.plan import COMPONENTS, Kill, Plan, SoakSkus, kill_schedule, order_shapes
from tools.chaos.soak import Report
from tools.chaos.verdict import Findings, Violation


def test_kills_default_to_one_per_fifty_orders_and_at_least_one_per_component():
    assert Plan(orders=1000).kill_count == 20
    assert Plan(orders=100).kill_count == len(COMPONENTS) == 10
    assert Plan(orders=1000, kills=3).kill_count == 3


def test_any_number_of_kills_spreads_evenly_over_all_ten_components():
    for kills in (10, 13, 20, 24):
        schedule = kill_schedule(Plan(kills=kills), replicas=1, rng=random.Random(kills))
        per_component = Counter(k.component for k in schedule)
        assert len(schedule) == kills
        assert set(per_component) == set(COMPONENTS)
        assert max(per_component.values()) - min(per_component.values()) <= 1


def test_a_service_with_two_replicas_has_each_replica_killed_in_turn():
    schedule = kill_schedule(Plan(kills=2 * len(COMPONENTS)), replicas=2, rng=random.Random(7))
    assert sorted(k.process for k in schedule if k.component == "order") == ["order", "order-2"]
    assert sorted(k.process for k in schedule if k.component == "kafka") == ["kafka", "kafka"]


def test_the_first_camunda_kill_stays_down_long_and_the_others_within_the_range():
    plan = Plan(kills=24, shortest_down=3, longest_down=30, camunda_long_down=60)
    schedule = kill_schedule(plan, replicas=1, rng=random.Random(1))
    camunda = [k.down_seconds for k in schedule if k.component == "camunda"]
    assert camunda[0] == 60
    assert all(3 <= k.down_seconds <= 30 for k in schedule if k.down_seconds != 60)
    without = kill_schedule(Plan(kills=8, camunda_long_down=0, longest_down=5), replicas=1, rng=random.Random(1))
    assert max(k.down_seconds for k in without) <= 5


def test_the_same_seed_plans_the_same_soak():
    plan, skus = Plan(orders=50), SoakSkus.for_run("run")
    assert order_shapes(plan, skus, random.Random(3)) == order_shapes(plan, skus, random.Random(3))
    assert kill_schedule(plan, 2, random.Random(3)) == kill_schedule(plan, 2, random.Random(3))


def test_the_orders_take_every_path():
    skus = SoakSkus.for_run("run")
    shapes = order_shapes(Plan(orders=300), skus, random.Random(5))
    ordered = {sku for shape in shapes for sku, _ in shape.items}
    assert ordered == {skus.plenty, skus.scarce, skus.made_to_order}
    assert any(not s.accepts_partial for s in shapes) and any(s.refused_by_courier for s in shapes)
    cancelled = sum(s.cancel_after is not None for s in shapes)
    assert 0.08 < cancelled / len(shapes) < 0.22


def test_the_summary_is_one_line_with_the_figures_and_each_violation_named():
    ledger = Ledger(placed=10, accepted={f"id-{n}": f"key-{n}" for n in range(9)}, cancel_requested=2, retries=4)
    outcomes = [Outcome(Kill("camunda", "camunda", 60.0), at=5.0, recovered_after=12.0),
                Outcome(Kill("order", "order-2", 4.0), at=80.0, recovered_after=None)]
    findings = Findings(Counter({"COMPLETED": 7, "CANCELLED": 1, "RESERVED": 1}), lead_times=[4.0] * 19 + [90.0],
                        violations=[Violation("orders not final", ["id-8 RESERVED ..."]),
                                    Violation("open incidents", ["a"])])
    report = Report("run", Plan(orders=10), ledger, outcomes, settled_after=None, findings=findings)
    summary = report.summary()
    assert "\n" not in summary
    for figure in ("orders placed 10 (+0 probes)", "accepted 9", "final 8 (CANCELLED 1, COMPLETED 7)",
                   "not final 1 (RESERVED 1)",
                   "kills 2 (camunda 1, order 1; longest down 60s; slowest recovery camunda 12s)",
                   "placed to final p50 4s, p95 90s, max 90s",
                   "NOT settled within 300s",
                   "violations 2: orders not final (1), open incidents (1)"):
        assert figure in summary
