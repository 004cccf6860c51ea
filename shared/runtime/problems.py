"""Every error a service answers is an RFC 9457 problem (`application/problem+json`): the exception handlers that
make one, the response the middleware sends, the OpenAPI entries that document it, and a client's one-line reading.

A problem's `type` names the kind of failure with a tag URI (RFC 4151), `tag:fulfilment.example,2026:problems/<kind>`:
the same on every service, compared as a string, and never fetched (a relative `/problems/...` would resolve to a
different URI on each service). `title` is the status's phrase, `detail` the sentence for people, `instance` the
request's path, and a refused request's fields at fault are the extension member `errors` ({field, problem}).
"""
from __future__ import annotations

import logging
from http import HTTPStatus

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from shared.runtime.backoff import describe
from shared.runtime.http import PROBLEM_MEDIA_TYPE, FieldProblem, Problem, problem
from shared.runtime.inbox import TRANSIENT

log = logging.getLogger(__name__)

TYPE_PREFIX = "tag:fulfilment.example,2026:problems/"
# The kind an HTTPException of each status is, wherever it is raised; another status is `about:blank`.
KIND_OF_STATUS = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
                  405: "method-not-allowed", 409: "conflict", 410: "gone", 412: "precondition-failed",
                  413: "body-too-large", 422: "invalid-request", 428: "precondition-required",
                  429: "too-many-requests", 500: "internal-error", 503: "dependency-unavailable"}
MALFORMED_JSON = "malformed-json"
UNAVAILABLE_RETRY_AFTER_SECONDS = 1

PROBLEMS_OF_EVERY_ROUTE = {
    422: problem("Invalid request: the reason, and the fields at fault"),
    500: problem("An unexpected failure of the service; the detail is generic, the service's log has the cause"),
    503: problem("A dependency (the database) is unavailable now; retry after a moment"),
}
"""For FastAPI(responses=...): what any route may answer."""


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_response(status: int, detail: str, *, instance: str | None = None, kind: str | None = None,
                     errors: list[FieldProblem] | None = None,
                     headers: dict[str, str] | None = None) -> ProblemResponse:
    kind = kind or KIND_OF_STATUS.get(status)
    body = Problem(type=TYPE_PREFIX + kind if kind else "about:blank", title=_title(status), status=status,
                   detail=detail, instance=instance, errors=errors)
    return ProblemResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _http_exception(request: Request, exc: HTTPException) -> ProblemResponse:
    title = _title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if detail == title:  # raised without a sentence, e.g. by the router for a path or method it has no route for
        detail = f"{request.method} {request.url.path}: {title.lower()}"
    headers = dict(exc.headers or {})
    if exc.status_code == 503:
        headers.setdefault("Retry-After", str(UNAVAILABLE_RETRY_AFTER_SECONDS))
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> ProblemResponse:
    errors = exc.errors()
    malformed = next((e for e in errors if e["type"] == "json_invalid"), None)
    if malformed is not None:
        reason = (malformed.get("ctx") or {}).get("error", malformed["msg"])
        return problem_response(400, f"the body is not well-formed JSON: {reason} at character {malformed['loc'][-1]}",
                                instance=request.url.path, kind=MALFORMED_JSON)
    problems = [FieldProblem(field=".".join(str(p) for p in e["loc"] if p != "body"), problem=e["msg"])
                for e in errors]
    reasons = "; ".join(f"{p.field or 'body'}: {p.problem}" for p in problems)
    return problem_response(422, f"invalid request: {reasons}", instance=request.url.path, errors=problems)


async def _unavailable(request: Request, exc: Exception) -> ProblemResponse:
    # A dependency that is down (the database, mostly) is the caller's cue to retry, not a bug: 503 with the
    # reason in one line and in the log, instead of a 500 and a traceback per request.
    reason = describe(exc)
    log.warning("%s %s answered 503: %s", request.method, request.url.path, reason)
    return problem_response(503, f"a dependency of this service is unavailable now, try again: {reason}",
                            instance=request.url.path,
                            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)})


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    # The exception's text may carry a customer's data or the service's internals: it goes to the log only.
    log.error("%s %s answered 500", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "the service failed unexpectedly; its log has the cause",
                            instance=request.url.path)


def install_problems(app: FastAPI) -> None:
    """Makes every error `app` answers a problem, and adds the Problem schema that `problem(...)` entries name to
    its OpenAPI document."""
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for transient in TRANSIENT:
        app.add_exception_handler(transient, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
    generate = app.openapi

    def openapi() -> dict:
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" not in schemas:
            schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas["Problem"] = schema
        return document

    app.openapi = openapi


def summary(response: httpx.Response) -> str:
    """An error answer in one line for a person, `status: detail`, whatever its body: a problem (with the fields at
    fault unless its detail names them), JSON of another shape, a proxy's page, or nothing."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("detail") or body.get("title")):
        detail = str(body.get("detail") or body["title"])
        errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        unnamed = [f"{e.get('field') or 'body'}: {e.get('problem')}" for e in errors
                   if isinstance(e, dict) and str(e.get("problem")) not in detail]
        return f"{response.status_code}: {'; '.join([detail, *unnamed])}"
    text = response.text.strip()
    if not text or "html" in response.headers.get("content-type", "") or text.startswith("<"):
        text = response.reason_phrase or _title(response.status_code)
    return f"{response.status_code}: {' '.join(text.split())[:200]}"
