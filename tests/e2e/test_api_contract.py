"""Every HTTP API against its own OpenAPI document, with generated requests (schemathesis).

Bad input must get a 4xx with a documented Problem body, never a 5xx, and answers must match the
document. Writes are fuzzed with schema-violating requests only, which must all be refused, so the
test changes no state the other tests rely on; reads are fuzzed with any request.
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

from contracts.registry import SERVICES

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def fuzz(operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        case.call_and_validate(checks=CHECKS)

    call()


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_generated_requests_as_its_openapi_document_says(stack, service):
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{getattr(stack, f'{service}_port')}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"the {service} service documents no operations"
    for operation in operations:
        if operation.method.upper() not in WRITES:
            fuzz(operation, GenerationMode.POSITIVE)
        takes_input = any(len(part) for part in (operation.path_parameters, operation.query, operation.headers,
                                                 operation.body))
        if takes_input:
            fuzz(operation, GenerationMode.NEGATIVE)
