"""The contracts package and the BPMN agree: every message, job type and variable the processes use is in it."""
import json
import re
import xml.etree.ElementTree as ET

import pytest

from contracts.base import Event, JobInput
from contracts.catalog import EVENTS, JOBS, MESSAGES
from contracts.order import OrderPlaced
from contracts.process import DECISION_CHOICES, DECISION_FORM, DECISION_VARIABLE, DECISIONS, OrderStart
from contracts.registry import SERVICES
from contracts.warehouse import SkuListed
from tools.bootstrap import BPMN_DIR

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
MODELS = {path.stem: ET.parse(path).getroot() for path in sorted(BPMN_DIR.glob("*.bpmn"))}
# A FEEL name: a variable read in an expression, skipping strings, keywords and literals.
FEEL_NAME = re.compile(r'"[^"]*"|\b([A-Za-z_][A-Za-z0-9_]*)\b')
FEEL_WORDS = {"and", "or", "not", "null", "true", "false"}


def all_of(tag: str):
    return [(name, element) for name, root in MODELS.items() for element in root.iter(tag)]


def feel_names(expression: str) -> set[str]:
    if not expression.startswith("="):
        return set()
    names = {m.group(1) for m in FEEL_NAME.finditer(expression[1:]) if m.group(1)}
    return {n for n in names if n not in FEEL_WORDS and not n.isdigit()}


def bpmn_messages() -> dict[str, str]:
    """Message name -> the variable its subscription correlates on."""
    found = {}
    for _, message in all_of(BPMN + "message"):
        subscription = message.find(f"{BPMN}extensionElements/{ZEEBE}subscription")
        found[message.get("name")] = None if subscription is None else subscription.get("correlationKey")
    return found


def variables_available() -> set[str]:
    """What a process may read: its start variables, job and message outputs, io-mapping targets, the form."""
    available = set(OrderStart.names()) | {DECISION_VARIABLE}
    available |= {name for _, job in JOBS.values() if job.output for name in job.output.names()}
    available |= {name for _, m in MESSAGES.values() if m.variables for name in m.variables.names()}
    available |= {i.get("target") for _, i in all_of(ZEEBE + "input")}
    return available


def test_every_message_the_bpmn_catches_is_in_the_contracts_and_every_contract_message_is_caught():
    assert set(bpmn_messages()) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_a_message_is_correlated_on_the_variable_its_contract_names(name):
    _, message = MESSAGES[name]
    correlation = bpmn_messages()[name]
    # A start message has no subscription: the process does not exist yet to correlate on.
    assert correlation in (None, f"={message.correlation}")
    assert correlation is not None or message.variables is not None and message.correlation in message.variables.names()


def test_every_job_type_in_the_bpmn_has_a_contract_and_every_contract_job_type_is_in_the_bpmn():
    in_bpmn = {t.get("type") for _, t in all_of(ZEEBE + "taskDefinition")}
    assert in_bpmn == set(JOBS)


@pytest.mark.parametrize("job_type", sorted(JOBS))
def test_a_job_type_is_owned_by_the_service_its_contract_module_names(job_type):
    owner, model = JOBS[job_type]
    assert issubclass(model, JobInput) and job_type.split(".")[0] == owner and owner in SERVICES


@pytest.mark.parametrize("job_type", sorted(JOBS))
def test_every_variable_a_job_reads_is_set_before_it(job_type):
    _, model = JOBS[job_type]
    optional = {field.alias for field in model.model_fields.values() if not field.is_required()}
    assert set(model.names()) - optional - variables_available() == set()


def test_every_variable_a_bpmn_expression_reads_is_in_the_contracts():
    expressions = [e.text or "" for _, e in all_of(BPMN + "conditionExpression")]
    expressions += [e.text or "" for _, e in all_of(BPMN + "timeDuration")]
    expressions += [s.get("correlationKey") for _, s in all_of(ZEEBE + "subscription")]
    expressions += [i.get("source") for _, i in all_of(ZEEBE + "input")]
    read = set().union(*(feel_names(e.strip()) for e in expressions))
    assert read and read - variables_available() == set()


def test_the_decision_form_offers_exactly_the_decisions_the_bpmn_branches_on():
    form = (BPMN_DIR / "order-decision.form").read_text()
    assert set(re.findall(r'"value": "([^"]+)"', form)) == set(DECISIONS)
    branched = {m for _, e in all_of(BPMN + "conditionExpression")
                for m in re.findall(rf'{DECISION_VARIABLE} = "([^"]+)"', e.text or "")}
    assert branched <= set(DECISIONS)


def test_the_decision_form_is_the_one_contracts_describe_to_the_process_monitor():
    form = json.loads((BPMN_DIR / "order-decision.form").read_text())
    [choice] = [c for c in form["components"] if c.get("key") == DECISION_VARIABLE]
    assert form["id"] == DECISION_FORM
    assert {v["value"]: v["label"] for v in choice["values"]} == DECISION_CHOICES
    linked = {e.get("formId") for _, e in all_of(ZEEBE + "formDefinition")}
    assert linked == {DECISION_FORM}


def test_every_bpmn_error_code_a_job_may_throw_is_caught():
    from contracts.process import DELIVERY_FAILED
    codes = {e.get("errorCode") for _, e in all_of(BPMN + "error")}
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
