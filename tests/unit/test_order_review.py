"""The review before any stock is reserved: its rules in the domain, and the DMN, the form and the BPMN agreeing with
the contracts."""
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from services.order.domain import (
    FINAL_STATUSES,
    Cancellation,
    CancelOutcome,
    OrderStatus,
    Progress,
    Rejection,
    RejectOutcome,
    Report,
    ReviewMismatch,
    answer_cancel_request,
    rejection,
    settle_cancellation,
    status_of,
    take_in,
    waiting_for,
)
from shared.contracts.order import RejectOrder, ReviewResult
from shared.contracts.process import (
    REVIEW_CHOICES,
    REVIEW_DECISION,
    REVIEW_FORM,
    REVIEW_NOTE_VARIABLE,
    REVIEW_OUTCOMES,
    REVIEW_RESULT_VARIABLE,
    REVIEW_VARIABLE,
    OrderStart,
)
from tools.bootstrap import BPMN_DIR

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


# --- the domain -----------------------------------------------------------------------------------------------------

def test_an_order_held_for_review_is_in_review_until_its_reservation_is_reported():
    held, _ = take_in(Progress(units_ordered=100), {}, Report(in_review=True))
    assert status_of(held) is OrderStatus.IN_REVIEW
    approved, _ = take_in(held, {}, Report(reserved=True, backorder_open=False))
    assert status_of(approved) is OrderStatus.RESERVED
    waiting, _ = take_in(held, {}, Report(reserved=False, backorder_open=True))
    assert status_of(waiting) is OrderStatus.AWAITING_STOCK


def test_rejected_is_final_and_in_review_is_not():
    assert OrderStatus.REJECTED in FINAL_STATUSES and OrderStatus.IN_REVIEW not in FINAL_STATUSES
    rejected, _ = take_in(Progress(units_ordered=1, in_review=True), {}, Report(final=OrderStatus.REJECTED))
    assert status_of(rejected) is OrderStatus.REJECTED
    later, _ = take_in(rejected, {}, Report(reserved=True))
    assert status_of(later) is OrderStatus.REJECTED


def test_an_order_in_review_waits_for_a_person_by_design():
    assert waiting_for(backorder_open=False, stages=[], in_review=True) == "a person to review the order"
    assert waiting_for(backorder_open=False, stages=[]) is None


def test_the_rules_refusal_gives_the_rules_reason():
    assert rejection("refuse", "400 units or more", None, None) == Rejection(
        RejectOutcome.REFUSED, "refused by the review rules: 400 units or more")


@pytest.mark.parametrize("answer, note, expected", [
    ("reject", "looks like fraud", Rejection(RejectOutcome.REJECTED, "rejected in review: looks like fraud")),
    ("changes", "  split it\n into two\x00orders ", Rejection(RejectOutcome.CHANGES_REQUESTED,
                                                            "changes asked for in review: split it into two orders")),
    ("reject", None, Rejection(RejectOutcome.REJECTED, "rejected in review (no note; reviewed because big)")),
    ("changes", "   ", Rejection(RejectOutcome.CHANGES_REQUESTED,
                                 "changes asked for in review (no note; reviewed because big)")),
])
def test_a_reviewers_rejection_gives_their_answer_and_note_as_one_printable_line(answer, note, expected):
    assert rejection("review", "big", answer, note) == expected


def test_a_long_note_is_cut_to_a_sensible_length():
    assert len(rejection("review", "big", "reject", "x" * 5000).reason) == len("rejected in review: ") + 500


@pytest.mark.parametrize("outcome, answer", [("review", "approve"), ("review", None), ("auto", None),
                                             ("review", "maybe")])
def test_nothing_that_does_not_reject_the_order_can_end_it_rejected(outcome, answer):
    with pytest.raises(ReviewMismatch):
        rejection(outcome, "why", answer, None)


def test_a_rejected_order_refuses_a_cancellation_and_settles_a_pending_one_as_refused():
    refused = answer_cancel_request(OrderStatus.REJECTED, None, NOW)
    assert refused.outcome is CancelOutcome.REFUSED and "rejected" in refused.reason
    settled = settle_cancellation(Cancellation(NOW), OrderStatus.REJECTED, NOW)
    assert settled.outcome is CancelOutcome.REFUSED and "rejected first" in settled.reason
    assert answer_cancel_request(OrderStatus.IN_REVIEW, None, NOW).outcome is CancelOutcome.PENDING


def test_the_start_variables_carry_the_counts_the_rules_decide_on_derived_from_the_lines():
    start = OrderStart(order_id="o", items=[{"sku": "a", "quantity": 3}, {"sku": "b", "quantity": 4}],
                       accepts_partial=False, earlier_orders=2, stock_wait_reminder="P1D", stock_wait_deadline="P3D",
                       delivery_reminder="P2D", delivery_deadline="P5D")
    variables = start.to_variables()
    assert (variables["totalUnits"], variables["lineCount"], variables["earlierOrders"],
            variables["acceptsPartial"]) == (7, 2, 2, False)
    assert {"orderReviewDeadline", "decisionDeadline"} <= set(variables)


# --- the DMN, the form and the BPMN agree with the contracts --------------------------------------------------------

DECISION = ET.parse(BPMN_DIR / "order-review.dmn").getroot().find(f"{DMN}decision")
FULFILMENT = ET.parse(BPMN_DIR / "order-fulfillment.bpmn").getroot()


def test_the_decision_reads_only_start_variables_and_answers_with_the_result_the_contract_describes():
    table = DECISION.find(f"{DMN}decisionTable")
    read = {i.find(f"{DMN}inputExpression/{DMN}text").text for i in table.findall(f"{DMN}input")}
    assert read <= set(OrderStart.names())
    assert [o.get("name") for o in table.findall(f"{DMN}output")] == list(ReviewResult.model_fields)
    outcomes = {json.loads(r.findall(f"{DMN}outputEntry")[0].find(f"{DMN}text").text)
                for r in table.findall(f"{DMN}rule")}
    assert outcomes == set(REVIEW_OUTCOMES)
    assert table.get("hitPolicy") == "FIRST"
    last = table.findall(f"{DMN}rule")[-1]
    assert {e.find(f"{DMN}text").text for e in last.findall(f"{DMN}inputEntry")} == {"-"}  # always an answer


def test_the_process_calls_the_decision_and_branches_on_every_outcome():
    [called] = FULFILMENT.iter(f"{ZEEBE}calledDecision")
    assert (called.get("decisionId"), called.get("resultVariable")) == (REVIEW_DECISION, REVIEW_RESULT_VARIABLE)
    assert DECISION.get("id") == REVIEW_DECISION
    conditions = " ".join(c.text for c in FULFILMENT.iter(f"{BPMN}conditionExpression"))
    branched = set(re.findall(rf'{REVIEW_RESULT_VARIABLE}\.outcome = "([^"]+)"', conditions))
    assert branched == set(REVIEW_OUTCOMES)


def test_the_review_form_offers_exactly_the_answers_the_process_and_the_contracts_know():
    form = json.loads((BPMN_DIR / "order-review.form").read_text())
    assert form["id"] == REVIEW_FORM
    [choice] = [c for c in form["components"] if c.get("key") == REVIEW_VARIABLE]
    assert {v["value"]: v["label"] for v in choice["values"]} == REVIEW_CHOICES
    [note] = [c for c in form["components"] if c.get("key") == REVIEW_NOTE_VARIABLE]
    assert note["type"] == "textfield" and not note.get("validate", {}).get("required")
    conditions = " ".join(c.text for c in FULFILMENT.iter(f"{BPMN}conditionExpression"))
    assert set(re.findall(rf'\b{REVIEW_VARIABLE} = "([^"]+)"', conditions)) == set(REVIEW_CHOICES)
    answers = RejectOrder.model_fields["review"].annotation.__args__[0].__args__
    assert set(answers) == set(REVIEW_CHOICES)


def test_the_review_is_for_reviewers_with_a_due_date_and_an_escalation_at_the_same_duration():
    [task] = [t for t in FULFILMENT.iter(f"{BPMN}userTask") if t.get("id") == "ReviewOrder"]
    assert task.find(f".//{ZEEBE}assignmentDefinition").get("candidateGroups") == "fulfilment-reviewers"
    assert "duration(orderReviewDeadline)" in task.find(f".//{ZEEBE}taskSchedule").get("dueDate")
    [timer] = [b for b in FULFILMENT.iter(f"{BPMN}boundaryEvent") if b.get("attachedToRef") == "ReviewOrder"]
    assert timer.get("cancelActivity") == "false"
    assert timer.find(f".//{BPMN}timeDuration").text == "=orderReviewDeadline"


@pytest.mark.parametrize("path", ["order-fulfillment.bpmn", "order-shipment.bpmn"])
def test_every_user_task_has_a_due_date_from_a_start_variable(path):
    tasks = list(ET.parse(BPMN_DIR / path).getroot().iter(f"{BPMN}userTask"))
    assert tasks
    for task in tasks:
        due = task.find(f".//{ZEEBE}taskSchedule").get("dueDate")
        [variable] = re.findall(r"duration\((\w+)\)", due)
        assert variable in OrderStart.names(), task.get("id")
