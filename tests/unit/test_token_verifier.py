"""A token found valid is remembered until it expires; anything else is checked in full every time."""
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from runtime.auth import LEEWAY_SECONDS, InvalidToken, TokenVerifier

ISSUER = "http://provider/realms/test"
AUDIENCE = "fulfilment-api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class CountingKeys:
    """The provider's keys, counting how often a token's signature was looked at."""

    def __init__(self) -> None:
        self.lookups = 0

    def get_signing_key_from_jwt(self, token: str):
        self.lookups += 1
        return jwt.PyJWK.from_dict({**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True),
                                    "alg": "RS256"})


def token(expires_in: float, key=KEY, subject: str = "alice") -> str:
    now = time.time()
    claims = {"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": int(now), "exp": int(now + expires_in),
              "realm_access": {"roles": ["customer"]}}
    return jwt.encode(claims, key, algorithm="RS256")


@pytest.fixture
def verifier():
    checker = TokenVerifier(ISSUER, AUDIENCE, "http://provider/certs")
    checker.keys = CountingKeys()
    return checker


def test_a_valid_token_is_checked_once_and_then_remembered(verifier):
    valid = token(expires_in=300)
    first = verifier.caller(valid)
    again = verifier.caller(valid)
    assert first == again and first.subject == "alice" and first.has("customer")
    assert verifier.keys.lookups == 1


def test_a_remembered_token_is_checked_again_once_it_has_expired(verifier, monkeypatch):
    valid = token(expires_in=60)
    verifier.caller(valid)
    later = time.time() + 60 + LEEWAY_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    verifier.caller(valid)  # PyJWT keeps its own clock, for which the token is still valid
    assert verifier.keys.lookups == 2


def test_a_token_with_the_same_claims_but_another_signature_is_not_taken_for_a_remembered_one(verifier):
    verifier.caller(token(expires_in=300))
    forged = token(expires_in=300, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(InvalidToken, match="Signature"):
        verifier.caller(forged)


def test_an_invalid_token_is_never_remembered(verifier):
    forged = token(expires_in=300, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.caller(forged)
    assert verifier.keys.lookups == 2


def test_it_remembers_a_bounded_number_of_tokens(verifier, monkeypatch):
    monkeypatch.setattr(TokenVerifier, "REMEMBERED", 3)
    tokens = [token(expires_in=300, subject=f"user-{n}") for n in range(5)]
    for each in tokens:
        verifier.caller(each)
    assert len(verifier._valid) == 3
    verifier.caller(tokens[0])  # forgotten: the oldest went first
    assert verifier.keys.lookups == 6
