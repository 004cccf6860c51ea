"""The contracts package and the BPMN agree: every message, job type and variable the processes use is in it."""
import json
import re

import pytest

from shared.contracts.base import Event
from shared.contracts.catalog import EVENTS
from shared.contracts.order import OrderPlaced
from shared.contracts.process import DECISION_CHOICES, DECISION_FORM, DECISION_VARIABLE, DECISIONS
from shared.contracts.registry import SERVICES
from shared.contracts.warehouse import SkuListed
from tools import bpmn_checks
from tools.bootstrap import BPMN_DIR, bpmn_files

RESOURCES = bpmn_checks.Resources.read(bpmn_files())
BPMN = bpmn_checks.BPMN
ZEEBE = bpmn_checks.ZEEBE


def test_every_job_type_message_and_variable_of_the_bpmn_is_in_the_contracts_and_every_contract_is_used():
    assert bpmn_checks.contract_problems(RESOURCES) == []


def test_every_called_process_decision_and_form_is_deployed_with_its_caller():
    assert bpmn_checks.link_problems(RESOURCES) == []


def test_the_checks_read_what_the_bpmn_uses():
    """The checks above would pass vacuously if the tags they look for were misspelt."""
    assert RESOURCES.job_types() and RESOURCES.messages() and len(RESOURCES.variables_read()) >= 5
    assert RESOURCES.form_ids() and RESOURCES.all_of(ZEEBE + "calledElement")


def test_the_decision_form_offers_exactly_the_decisions_the_bpmn_branches_on():
    form = (BPMN_DIR / "order-decision.form").read_text()
    assert set(re.findall(r'"value": "([^"]+)"', form)) == set(DECISIONS)
    branched = {m for _, e in RESOURCES.all_of(BPMN + "conditionExpression")
                for m in re.findall(rf'{DECISION_VARIABLE} = "([^"]+)"', e.text or "")}
    assert branched <= set(DECISIONS)


def test_the_decision_form_is_the_one_contracts_describe_to_the_process_monitor():
    form = json.loads((BPMN_DIR / "order-decision.form").read_text())
    [choice] = [c for c in form["components"] if c.get("key") == DECISION_VARIABLE]
    assert form["id"] == DECISION_FORM
    assert {v["value"]: v["label"] for v in choice["values"]} == DECISION_CHOICES
    linked = {e.get("formId") for _, e in RESOURCES.all_of(ZEEBE + "formDefinition")}
    assert DECISION_FORM in linked


def test_every_bpmn_error_code_a_job_may_throw_is_caught():
    from shared.contracts.process import DELIVERY_FAILED
    codes = {e.get("errorCode") for _, e in RESOURCES.all_of(BPMN + "error")}
    assert DELIVERY_FAILED in codes


def test_every_event_type_has_one_class_and_a_publisher_in_the_registry():
    topics = {s.events_topic for s in SERVICES.values() if s.publishes}
    assert EVENTS and {topic for topic, _ in EVENTS.values()} <= topics


def test_an_event_class_that_does_not_say_what_it_is_about_is_refused_where_it_is_declared():
    with pytest.raises(TypeError, match="derive it from OrderEvent"):
        class Untethered(Event, event_type="fulfilment.test.untethered.v1"):
            sku: str


def test_an_event_is_keyed_by_what_it_is_about_an_order_or_a_sku():
    placed = OrderPlaced(order_id="o-1", customer_id="c-1", items=[])
    listed = SkuListed(sku="KB-101", name="Mechanical keyboard")
    assert (placed.subject, listed.subject) == ("o-1", "KB-101")
    assert {event.subject_is for _, event in EVENTS.values()} == {"the order id", "the SKU"}
