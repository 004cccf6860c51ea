"""A verified caller carries the groups its token names and its username, and a route may let in a group's members."""
import jwt
import pytest
from fastapi import HTTPException

from shared.runtime.auth import Allow, Caller, TokenVerifier, route_access
from tests.unit.tokens import AUDIENCE, ISSUER, KEY, KID, public_jwk, token


class FixedKeys:
    def for_token(self, token: str):
        return jwt.PyJWK.from_dict(public_jwk())


def verified(**claims) -> Caller:
    checker = TokenVerifier(ISSUER, AUDIENCE, "http://provider/certs")
    checker.keys = FixedKeys()
    body = jwt.decode(token(), options={"verify_signature": False}) | claims
    return checker.caller(jwt.encode(body, KEY, algorithm="RS256", headers={"kid": KID}))


def test_the_caller_has_the_groups_and_the_username_its_token_names():
    caller = verified(groups=["fulfilment-team", "/fulfilment-reviewers"], preferred_username="demo-operator")
    assert caller.groups == {"fulfilment-team", "fulfilment-reviewers"}  # a full path counts as its name
    assert caller.in_group("fulfilment-team") and caller.username == "demo-operator"


def test_a_token_without_groups_or_username_gives_no_group_and_the_subject_as_username():
    caller = verified()
    assert caller.groups == frozenset() and caller.username == caller.subject == "alice"


def test_a_route_open_to_a_role_or_groups_lets_in_either_and_names_both_when_it_refuses():
    rule = Allow("operator", groups=("fulfilment-team", "fulfilment-reviewers"))
    reviewer = Caller("r", frozenset(), frozenset({"fulfilment-reviewers"}))
    assert rule(reviewer) is reviewer
    assert rule(Caller("o", frozenset({"operator"}))).subject == "o"
    with pytest.raises(HTTPException) as refused:
        rule(Caller("c", frozenset({"customer"})))
    assert refused.value.status_code == 403
    assert refused.value.detail.startswith("this needs the role operator or membership of the group "
                                           "fulfilment-reviewers or fulfilment-team")


def test_a_route_open_only_to_groups_is_never_taken_for_a_public_one():
    class Dependency:
        call = Allow(groups=("fulfilment-team",))

    assert route_access([Dependency()]) == {"group:fulfilment-team"}
