"""The migration plans beside the BPMN (bpmn/migrations/) read as plans, and name only elements the processes
have: a plan whose target is the current tag maps to elements of the BPMN as it is."""
import xml.etree.ElementTree as ET

import pytest

from services.monitor.domain import element_ids
from tools.bootstrap import BPMN_DIR
from tools.process_migration import PLANS_DIR, PlanError, read_plans

ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
PLANS = read_plans(PLANS_DIR)


def current(process_id: str) -> tuple[str, dict[str, str]]:
    """The process's version tag in bpmn/ and its elements."""
    xml = (BPMN_DIR / f"{process_id}.bpmn").read_text()
    tag = next(ET.fromstring(xml).iter(ZEEBE + "versionTag")).get("value")
    return tag, element_ids(xml, process_id)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: f"{p['bpmn_process_id']} {p['from_tag']}->{p['to_tag']}")
def test_a_plan_to_the_current_tag_maps_only_to_elements_the_bpmn_has(plan):
    tag, ids = current(plan["bpmn_process_id"])
    if plan["to_tag"] != tag:
        pytest.skip(f"the plan's target {plan['to_tag']} is not the current tag {tag}")
    missing = sorted(t for t in plan["elements"].values() if t not in ids)
    assert missing == [], f"bpmn/{plan['bpmn_process_id']}.bpmn ({tag}) has no {', '.join(missing)}"


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: f"{p['bpmn_process_id']} {p['from_tag']}->{p['to_tag']}")
def test_a_plan_maps_each_element_to_one_of_the_same_type(plan):
    """Zeebe 8.6 refuses a mapping between element types; identity is the rule, and the type must hold."""
    tag, ids = current(plan["bpmn_process_id"])
    if plan["to_tag"] != tag:
        pytest.skip(f"the plan's target {plan['to_tag']} is not the current tag {tag}")
    changed = [f"{s} ({ids.get(s)}) -> {t} ({ids[t]})" for s, t in plan["elements"].items()
               if s in ids and ids[s] != ids[t]]
    assert changed == []


def test_every_process_that_runs_orders_has_a_plan_to_its_current_tag():
    """A release that bumps a tag without a plan would leave every running order on the old version."""
    for process_id in ("order-fulfillment", "order-shipment"):
        tag, _ = current(process_id)
        assert any(p["bpmn_process_id"] == process_id and p["to_tag"] == tag for p in PLANS), \
            f"bpmn/migrations/{process_id}.toml has no table [\"...\".\"{tag}\"]"


def test_a_plan_file_that_is_not_a_table_per_tag_pair_is_refused_naming_the_file(tmp_path):
    (tmp_path / "p.toml").write_text('["1.0"]\nA = "A"\n')
    with pytest.raises(PlanError, match=r"p\.toml: \[\"1\.0\"\.\"A\"\] must be a table"):
        read_plans(tmp_path)
