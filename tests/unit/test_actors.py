"""Who did what: a token without a subject is a caller that may read and may not act; a batch's filters."""
from datetime import datetime, timezone
from pathlib import Path

import jwt
import pytest
from fastapi import HTTPException

from services.monitor.batches import IncidentFilter, job_types
from shared.runtime.auth import Caller, TokenVerifier, _actor
from tests.unit.tokens import AUDIENCE, ISSUER, public_jwk, token

BPMN = Path(__file__).parents[2] / "bpmn" / "order-fulfillment.bpmn"


class FixedKeys:
    def for_token(self, token: str):
        return jwt.PyJWK.from_dict(public_jwk())


def test_a_token_without_a_subject_is_a_caller_with_its_roles_and_no_subject():
    checker = TokenVerifier(ISSUER, AUDIENCE, "http://provider/certs")
    checker.keys = FixedKeys()
    caller = checker.caller(token(subject=None, roles=("operator",)))
    assert caller.subject == "" and caller.has("operator")


def test_an_action_needs_a_caller_with_a_subject():
    assert _actor(Caller("olivia", frozenset({"operator"}))).subject == "olivia"
    with pytest.raises(HTTPException) as refused:
        _actor(Caller("", frozenset({"operator"})))
    assert refused.value.status_code == 403 and "names nobody" in refused.value.detail


def test_the_job_type_of_each_job_element_is_read_from_the_process():
    found = job_types(BPMN.read_text())
    assert found["ReserveStock"] == "warehouse.reserve-stock"
    assert found["CompleteOrder"] == "order.complete-order"


def test_a_retry_filter_is_stored_as_asked_without_what_was_left_out():
    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert IncidentFilter(job_type="warehouse.reserve-stock", since=since).as_stored() == {
        "job_type": "warehouse.reserve-stock", "since": "2026-01-01T00:00:00+00:00", "retries": 1}
