"""What every service's routes share: the session dependency, text types that are safe to store, the error shape."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Engine

from shared.runtime.outbox import UnitsOfWork


def _sessions(request: Request) -> Engine:
    return request.app.state.sessions


Sessions = Annotated[Engine, Depends(_sessions)]


def _units(request: Request) -> UnitsOfWork:
    return request.app.state.units


# What a route that runs a use case opens its unit of work with: `with units() as uow:`.
Units = Annotated[UnitsOfWork, Depends(_units)]


def _no_control_characters(value: str) -> str:
    # PostgreSQL refuses NUL and lone surrogates outright; other control characters have no place in
    # names, addresses or ids and would garble logs and events downstream.
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


# Documents the rule in the OpenAPI schema; the validator above enforces it with a readable message.
_NO_CONTROL_CHARACTERS = Field(json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"})

Text = Annotated[str, AfterValidator(_no_control_characters), _NO_CONTROL_CHARACTERS]
"""Text as a person types it; use with Field(min_length=..., max_length=...)."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_no_control_characters),
                      _NO_CONTROL_CHARACTERS]
"""An id in a path or query: an order id, a SKU, a delivery id."""


def _iso_time(value):
    # Pydantic would also take a number of seconds since 1970; the APIs document ISO 8601 only.
    if isinstance(value, datetime) or isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\d", value):
        return value
    raise PydanticCustomError("datetime_format", "must be an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z")


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]
"""A moment in a query or a body: ISO 8601 only."""


# Every list answers in pages: at most MAX_PAGE_SIZE items, `limit` and `offset` in the query.
MAX_PAGE_SIZE = 500
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page, at most {MAX_PAGE_SIZE}")]
PageOffset = Annotated[int, Query(ge=0, le=1_000_000_000, description="items to skip")]


PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    field: str
    problem: str


class Problem(BaseModel):
    """The body of every error answer, an RFC 9457 problem: what kind of failure (`type`, a URI; see
    shared/runtime/problems.py), the status in words and in number, a sentence for people, the request's path, and
    for a refused request the fields at fault."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


def problem(description: str) -> dict:
    """An entry for a route's `responses`, so the OpenAPI document lists the error and its shape (the schema is
    added to the document's components by shared.runtime.problems.install_problems)."""
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


NOT_JSON = {400: problem("The body is not well-formed JSON")}
"""For routes that take a body: a body that cannot be parsed is refused with 400 before it is validated."""
