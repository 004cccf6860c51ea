"""A token found valid is remembered until it expires; anything else is checked in full every time. The provider's
keys are fetched again for a key id they lack, at most once per interval, and no request waits for another's fetch."""
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.runtime.auth import LEEWAY_SECONDS, InvalidToken, ProviderUnreachable, TokenVerifier
from tests.unit.tokens import AUDIENCE, ISSUER, JwksEndpoint, public_jwk, token

# TokenVerifier's default interval between two fetches of the provider's keys.
REFRESH_SECONDS = 30


class CountingKeys:
    """The provider's keys, counting how often a token's signature was looked at."""

    def __init__(self) -> None:
        self.lookups = 0

    def for_token(self, token: str):
        self.lookups += 1
        return jwt.PyJWK.from_dict(public_jwk())


@pytest.fixture
def verifier():
    checker = TokenVerifier(ISSUER, AUDIENCE, "http://provider/certs")
    checker.keys = CountingKeys()
    return checker


@pytest.fixture
def provider():
    with JwksEndpoint() as endpoint:
        yield endpoint


def later(monkeypatch, seconds: float) -> None:
    """Moves the clock the key fetches are timed by `seconds` ahead."""
    now = time.monotonic() + seconds
    monkeypatch.setattr(time, "monotonic", lambda: now)


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


def test_tokens_naming_key_ids_the_provider_lacks_are_refused_without_a_fetch_until_the_interval_passed(
        provider, monkeypatch):
    verifier = TokenVerifier(ISSUER, AUDIENCE, provider.url)
    assert verifier.caller(token()).subject == "alice"
    for n in range(20):
        with pytest.raises(InvalidToken):
            verifier.caller(token(kid=f"made-up-{n}"))
    assert provider.fetches == 1
    later(monkeypatch, REFRESH_SECONDS + 1)
    with pytest.raises(InvalidToken):
        verifier.caller(token(kid="made-up-0"))
    assert provider.fetches == 2


def test_a_key_the_provider_added_since_the_last_fetch_is_found_with_one_fetch_once_the_interval_passed(
        provider, monkeypatch):
    verifier = TokenVerifier(ISSUER, AUDIENCE, provider.url)
    verifier.caller(token())
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.keys = [public_jwk(), public_jwk(rotated, "rotated")]
    later(monkeypatch, REFRESH_SECONDS + 1)
    assert verifier.caller(token(key=rotated, kid="rotated", subject="bob")).subject == "bob"
    assert verifier.caller(token()).subject == "alice"
    assert provider.fetches == 2


def test_while_the_provider_fails_its_keys_are_asked_for_at_most_once_per_interval(provider, monkeypatch):
    provider.failing = True
    verifier = TokenVerifier(ISSUER, AUDIENCE, provider.url)
    for n in range(20):
        with pytest.raises(ProviderUnreachable):
            verifier.caller(token(kid=f"made-up-{n}"))
    assert provider.fetches == 1
    provider.failing = False
    later(monkeypatch, REFRESH_SECONDS + 1)
    assert verifier.caller(token()).subject == "alice"
    assert provider.fetches == 2


def test_while_one_request_fetches_the_keys_another_with_an_unknown_key_id_is_answered_without_waiting(provider):
    verifier = TokenVerifier(ISSUER, AUDIENCE, provider.url)
    provider.held.clear()  # the provider is slow to answer the first fetch
    outcomes: dict[str, object] = {}

    def check(name: str, bearer: str) -> None:
        try:
            outcomes[name] = verifier.caller(bearer).subject
        except (InvalidToken, ProviderUnreachable) as exc:
            outcomes[name] = exc

    fetching = threading.Thread(target=check, args=("fetching", token()))
    fetching.start()
    deadline = time.monotonic() + 5
    while provider.fetches == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    other = threading.Thread(target=check, args=("other", token(kid="made-up")))
    other.start()
    other.join(timeout=2)
    answered_while_fetching = not other.is_alive()
    provider.held.set()
    fetching.join(timeout=10)
    other.join(timeout=10)
    assert answered_while_fetching, "a request with an unknown key id waited for another request's fetch"
    assert isinstance(outcomes["other"], ProviderUnreachable)
    assert outcomes["fetching"] == "alice" and provider.fetches == 1
