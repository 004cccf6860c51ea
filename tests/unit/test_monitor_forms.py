"""The review form: one choice and an optional note, which completing the task sets as variables."""
import json

import pytest

from services.monitor.domain import FORMS
from services.monitor.views import task_view
from shared.contracts.process import REVIEW_CHOICES, REVIEW_FORM, REVIEW_NOTE_VARIABLE, REVIEW_VARIABLE
from tools.stack.config import REPO_ROOT

REVIEW = FORMS[REVIEW_FORM]


def test_the_review_takes_one_of_its_choices_with_or_without_a_note():
    assert REVIEW.answer({REVIEW_VARIABLE: "approve"}) == {REVIEW_VARIABLE: "approve"}
    noted = {REVIEW_VARIABLE: "changes", REVIEW_NOTE_VARIABLE: "ship in two parcels"}
    assert REVIEW.answer(noted) == noted
    # An empty note is no note: the variable is not set at all.
    assert REVIEW.answer({REVIEW_VARIABLE: "reject", REVIEW_NOTE_VARIABLE: "  "}) == {REVIEW_VARIABLE: "reject"}


@pytest.mark.parametrize("given, reason", [
    ({REVIEW_NOTE_VARIABLE: "looks fine"}, "sets review and may set reviewNote; it was given reviewNote"),
    ({REVIEW_VARIABLE: "approve", "decision": "continue"}, "it was given decision, review"),
    ({REVIEW_VARIABLE: "maybe"}, "review must be one of approve, reject, changes, not 'maybe'"),
    ({REVIEW_VARIABLE: "approve", REVIEW_NOTE_VARIABLE: "x" * 501}, r"reviewNote \(501 > 500\)"),
])
def test_the_review_refuses_a_missing_choice_an_unknown_variable_or_choice(given, reason):
    with pytest.raises(ValueError, match=reason):
        REVIEW.answer(given)


def test_the_task_view_shows_the_reviews_choices_and_its_note_field():
    class Row:
        _mapping = {"key": 1, "instance_key": 2, "element_id": "ReviewOrder", "state": "CREATED",
                    "assignee": "demo-reviewer", "candidate_groups": ["fulfilment-reviewers"], "candidate_users": [],
                    "due_date": "2026-12-08T20:00:00.000Z", "created_at": "2026-12-07T20:00:00Z", "ended_at": None}
        element_id = "ReviewOrder"

    view = task_view(Row(), {"ReviewOrder": REVIEW_FORM})
    assert [c.value for c in view.form.choices] == list(REVIEW_CHOICES)
    assert [(t.variable, t.required) for t in view.form.texts] == [(REVIEW_NOTE_VARIABLE, False)]
    assert view.assignee == "demo-reviewer" and view.due_date.startswith("2026-12-08")


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "bpmn").glob("*.form")), ids=lambda p: p.name)
def test_the_monitor_knows_each_deployed_form_with_its_choice_and_its_text_fields(path):
    schema = json.loads(path.read_text())
    form = FORMS[schema["id"]]
    (radio,) = [c for c in schema["components"] if c["type"] == "radio"]
    assert form.variable == radio["key"]
    assert [(c.value, c.label) for c in form.choices] == [(v["value"], v["label"]) for v in radio["values"]]
    texts = [c for c in schema["components"] if c["type"] == "textfield"]
    assert [(t.variable, t.required, t.max_length) for t in form.texts] == [
        (c["key"], c.get("validate", {}).get("required", False), c.get("validate", {}).get("maxLength", 500))
        for c in texts]
