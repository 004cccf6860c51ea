"""Every HTTP API against its own OpenAPI document, with generated requests (schemathesis).

Bad input must get a 4xx with a documented Problem body, never a 5xx, and answers must match the
document. Writes are fuzzed with schema-violating requests only, which must all be refused, so the
test changes no state the other tests rely on; reads are fuzzed with any request. Every request carries a
token of the first role the operation allows (its `x-roles`), so the fuzzing reaches past the token check; an
operation that needs a token is also fuzzed without one, writes included, and must refuse every request with 401.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from shared.contracts.registry import SERVICES
from tests.e2e.test_access import login_with_role

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def fuzz(operation, mode: GenerationMode, auth) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        headers = {"Authorization": f"Bearer {auth.access_token()}"} if auth else None
        response = case.call_and_validate(checks=CHECKS, headers=headers)
        # A 401 or 403 is documented too; here it would mean the request never reached the operation.
        assert response.status_code not in (401, 403), response.text

    call()


def fuzz_without_token(operation) -> None:
    # Few examples: callers without a token share one allowance per address (shared/runtime/limits.py), and a 429 here
    # would hide whether the operation refuses them.
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=5, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        response = case.call_and_validate(checks=[status_code_conformance, content_type_conformance,
                                                  response_schema_conformance])
        assert response.status_code == 401, response.text
        assert response.json()["detail"].startswith("missing bearer token")

    call()


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_generated_requests_as_its_openapi_document_says(stack, login, service):
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{getattr(stack, f'{service}_port')}/openapi.json")
    # The token is the test's to give (or withhold): a made-up Authorization header would make a request count as
    # invalid although the token sent in its place is valid.
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"the {service} service documents no operations"
    for operation in operations:
        roles = operation.definition.raw.get("x-roles")
        auth = login_with_role(login, roles[0]) if roles else None
        if operation.method.upper() not in WRITES:
            fuzz(operation, GenerationMode.POSITIVE, auth)
        takes_input = any(len(part) for part in (operation.path_parameters, operation.query, operation.headers,
                                                 operation.body))
        if takes_input:
            fuzz(operation, GenerationMode.NEGATIVE, auth)
        if roles:
            fuzz_without_token(operation)
