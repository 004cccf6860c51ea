"""What one caller may ask: body size and request rate (shared/runtime/limits.py), in process."""
import dataclasses
import importlib

from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from shared.contracts.roles import CUSTOMER
from shared.runtime.auth import allow
from shared.runtime.limits import BodySizeLimit, RateLimit, TokenBuckets
from shared.runtime.service import create_app
from tests.unit.tokens import ISSUER, JwksEndpoint, token


def test_a_key_gets_its_burst_then_one_request_per_refill_and_others_keep_their_own():
    limit = TokenBuckets(per_second=10, burst=3, whose="from this address")
    assert [limit.take(b"a", 0.0) for _ in range(3)] == [0, 0, 0]
    assert limit.take(b"a", 0.0) == 0.1  # empty: the next token in 1/10 s
    assert limit.take(b"b", 0.0) == 0  # another key has its own bucket
    assert limit.take(b"a", 0.1) == 0
    assert limit.take(b"a", 10.0) == 0 and limit.buckets[b"a"][0] == 2  # refilled up to the burst, not beyond


def app_with(middleware, **options) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"size": len(await request.body())}

    @app.get("/health")
    def health() -> dict:
        return {}

    app.add_middleware(middleware, **options)
    return app


def test_a_body_over_the_limit_is_refused_with_413_whether_its_length_is_given_or_it_comes_in_chunks():
    client = TestClient(app_with(BodySizeLimit, max_bytes=10))
    assert client.post("/echo", content=b"x" * 10).json() == {"size": 10}
    refused = client.post("/echo", content=b"x" * 11)
    assert refused.status_code == 413 and refused.json()["detail"] == "the request body is larger than 10 bytes"
    assert client.post("/echo", content=iter([b"x" * 6, b"x" * 6])).status_code == 413
    assert client.post("/echo", content=iter([b"x" * 5, b"x" * 5])).json() == {"size": 10}


def test_requests_from_one_address_share_one_allowance_whatever_token_each_carries_and_health_is_never_limited():
    app = app_with(RateLimit, per_second=0.5, burst=2)
    client = TestClient(app, client=("192.0.2.1", 50000))
    statuses = [client.post("/echo", headers={"Authorization": f"Bearer made-up-{n}"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.post("/echo")
    assert refused.headers["Retry-After"] == "2" and "too many requests from this address" in refused.json()["detail"]
    assert TestClient(app, client=("192.0.2.2", 50000)).post("/echo").status_code == 200  # another address
    assert {client.get("/health").status_code for _ in range(5)} == {200}


def secured_app(jwks_url: str, **settings) -> TestClient:
    """A service's app as create_app wires it, with one route for customers, checking tokens against `jwks_url`."""
    router = APIRouter()

    @router.get("/things", dependencies=[allow(CUSTOMER)])
    def things() -> dict:
        return {}

    factory = importlib.import_module("services.factory.app").service
    configured = factory.settings.model_copy(update={"auth_issuer": ISSUER, "auth_jwks_url": jwks_url, **settings})
    return TestClient(create_app(dataclasses.replace(factory, settings=configured, api=router)))


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_every_token_of_one_subject_draws_on_its_one_allowance_and_another_subject_keeps_its_own():
    with JwksEndpoint() as provider:
        client = secured_app(provider.url, rate_limit_per_second=0.5, rate_limit_burst=2)
        logins = [token(subject="alice") for _ in range(3)]  # three logins: three different tokens
        answers = [client.get("/things", headers=bearer(each)) for each in logins]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["Retry-After"] == "2" and "too many requests" in answers[2].json()["detail"]
        assert client.get("/things", headers=bearer(token(subject="bob"))).status_code == 200


def test_made_up_tokens_from_one_address_get_429_before_they_are_checked_once_its_allowance_is_spent():
    with JwksEndpoint() as provider:
        client = secured_app(provider.url, address_rate_limit_per_second=0.5, address_rate_limit_burst=2)
        statuses = [client.get("/things", headers=bearer(f"made-up-{n}")).status_code for n in range(3)]
        assert statuses == [401, 401, 429]
