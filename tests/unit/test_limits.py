"""What one caller may ask: body size and request rate (runtime/limits.py), in process."""
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from runtime.limits import BodySizeLimit, RateLimit


def test_a_caller_gets_its_burst_then_one_request_per_refill_and_others_keep_their_own():
    limit = RateLimit(app=None, per_second=10, burst=3)
    assert [limit.take(b"a", 0.0) for _ in range(3)] == [0, 0, 0]
    assert limit.take(b"a", 0.0) == 0.1  # empty: the next token in 1/10 s
    assert limit.take(b"b", 0.0) == 0  # another token has its own bucket
    assert limit.take(b"a", 0.1) == 0
    assert limit.take(b"a", 10.0) == 0 and limit.buckets[b"a"][0] == 2  # refilled up to the burst, not beyond


def app_with(middleware, **options) -> TestClient:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"size": len(await request.body())}

    @app.get("/health")
    def health() -> dict:
        return {}

    app.add_middleware(middleware, **options)
    return TestClient(app)


def test_a_body_over_the_limit_is_refused_with_413_whether_its_length_is_given_or_it_comes_in_chunks():
    client = app_with(BodySizeLimit, max_bytes=10)
    assert client.post("/echo", content=b"x" * 10).json() == {"size": 10}
    refused = client.post("/echo", content=b"x" * 11)
    assert refused.status_code == 413 and refused.json()["detail"] == "the request body is larger than 10 bytes"
    assert client.post("/echo", content=iter([b"x" * 6, b"x" * 6])).status_code == 413
    assert client.post("/echo", content=iter([b"x" * 5, b"x" * 5])).json() == {"size": 10}


def test_a_burst_gets_429_with_retry_after_per_token_and_health_is_never_limited():
    client = app_with(RateLimit, per_second=0.5, burst=2)
    alice, bob = {"Authorization": "Bearer alice"}, {"Authorization": "Bearer bob"}
    assert [client.post("/echo", headers=alice).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.post("/echo", headers=alice)
    assert refused.headers["Retry-After"] == "2" and "too many requests" in refused.json()["detail"]
    assert client.post("/echo", headers=bob).status_code == 200
    assert {client.get("/health", headers=alice).status_code for _ in range(5)} == {200}
