"""Every error a service answers is an RFC 9457 problem (shared/runtime/problems.py), in process."""
import dataclasses
import importlib

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from shared.runtime.http import PROBLEM_MEDIA_TYPE
from shared.runtime.problems import TYPE_PREFIX, install_problems
from shared.runtime.service import create_app


class Thing(BaseModel):
    name: str = Field(min_length=1)
    count: int


def app_with_problems() -> FastAPI:
    app = FastAPI()
    install_problems(app)

    @app.post("/things")
    def add(thing: Thing) -> dict:
        return thing.model_dump()

    @app.get("/conflict")
    def conflict() -> dict:
        raise HTTPException(409, detail="thing 7 is taken")

    @app.get("/broken")
    def broken() -> dict:
        raise RuntimeError("secret customer address in the message")

    @app.get("/database-down")
    def database_down() -> dict:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    @app.get("/engine-down")
    def engine_down() -> dict:
        raise HTTPException(503, detail="the engine did not answer")

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app_with_problems(), raise_server_exceptions=False)


def assert_problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == TYPE_PREFIX + kind and body["status"] == status and body["title"] and body["detail"]
    return body


def test_an_unknown_route_is_a_404_problem_naming_the_path(client):
    body = assert_problem(client.get("/nowhere"), 404, "not-found")
    assert body["title"] == "Not Found" and body["instance"] == "/nowhere" and "/nowhere" in body["detail"]


def test_a_method_the_route_does_not_take_is_a_405_problem_that_keeps_the_allow_header(client):
    answer = client.delete("/conflict")
    assert_problem(answer, 405, "method-not-allowed")
    assert answer.headers["Allow"] == "GET"


def test_an_http_exception_raised_by_a_route_is_a_problem_with_its_detail(client):
    body = assert_problem(client.get("/conflict"), 409, "conflict")
    assert body == {"type": TYPE_PREFIX + "conflict", "title": "Conflict", "status": 409,
                    "detail": "thing 7 is taken", "instance": "/conflict"}


def test_an_invalid_body_is_a_422_problem_with_the_fields_at_fault(client):
    body = assert_problem(client.post("/things", json={"name": "", "count": "many"}), 422, "invalid-request")
    assert [e["field"] for e in body["errors"]] == ["name", "count"]
    assert body["detail"].startswith("invalid request: name: ")


def test_a_body_that_is_not_json_is_a_400_problem(client):
    answer = client.post("/things", content=b'{"name": ', headers={"content-type": "application/json"})
    body = assert_problem(answer, 400, "malformed-json")
    assert "not well-formed JSON" in body["detail"] and "errors" not in body


def test_an_unhandled_exception_is_a_500_problem_that_keeps_its_text_out_of_the_answer(client, caplog):
    answer = client.get("/broken")
    assert_problem(answer, 500, "internal-error")
    assert "secret" not in answer.text and "RuntimeError" not in answer.text
    assert "secret customer address" in caplog.text  # the traceback is in the log instead


def test_a_dependency_that_is_down_is_a_503_problem_with_retry_after(client):
    answer = client.get("/database-down")
    body = assert_problem(answer, 503, "dependency-unavailable")
    assert answer.headers["Retry-After"] == "1" and "connection refused" in body["detail"]
    raised = client.get("/engine-down")
    assert_problem(raised, 503, "dependency-unavailable")
    assert raised.headers["Retry-After"] == "1"


def service_app(**settings) -> FastAPI:
    """The Order service's app as create_app wires it (routes with bodies, ids and roles), with `settings` changed."""
    order = importlib.import_module("services.order.app").service
    return create_app(dataclasses.replace(order, settings=order.settings.model_copy(update=settings)))


def test_a_service_answers_problems_for_its_refusals_too():
    client = TestClient(service_app(), raise_server_exceptions=False)
    assert_problem(client.get("/orders"), 401, "unauthenticated")
    assert_problem(client.get("/no-such-route"), 404, "not-found")
    assert client.get("/health").status_code == 200


def test_the_refusals_of_the_size_and_rate_limits_are_problems_too():
    client = TestClient(service_app(max_request_bytes=10, address_rate_limit_burst=1,
                                    address_rate_limit_per_second=0.01))
    assert_problem(client.post("/orders", content=b"x" * 11), 413, "body-too-large")
    refused = client.get("/orders")
    assert_problem(refused, 429, "too-many-requests")
    assert refused.headers["Retry-After"]


def test_every_error_answer_in_a_services_openapi_document_is_a_problem():
    document = service_app().openapi()
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    errors = [(path, method, status, answer) for path, operations in document["paths"].items()
              for method, operation in operations.items() for status, answer in operation["responses"].items()
              if status >= "400" and (path, status) != ("/ready", "503")]  # readiness answers its report
    assert errors
    for path, method, status, answer in errors:
        assert answer["content"] == {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}, \
            (path, method, status)
    statuses = {status for *_, status, _ in errors}
    assert {"400", "401", "403", "404", "409", "422", "429", "500", "503"} <= statuses
