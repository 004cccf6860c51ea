"""Every job type in the BPMN leads in one hop to exactly one handler, in the service its name names."""
import pytest

from shared.runtime.zeebe import JOB_RETRIES
from tools import bpmn_checks
from tools.bootstrap import bpmn_files

RESOURCES = bpmn_checks.Resources.read(bpmn_files())
HANDLERS = bpmn_checks.handlers_by_job_type()


def test_every_job_type_in_the_bpmn_has_exactly_one_handler_with_the_retry_budget_the_workers_back_off_for():
    # The worker derives each wait from the retries left, so the BPMN and the runtime must agree.
    assert bpmn_checks.handler_problems(RESOURCES, HANDLERS, retries=JOB_RETRIES) == []


def test_no_handler_waits_for_a_job_type_the_bpmn_does_not_use():
    # `fulfil process deploy` only notes these: a handler is kept while older versions that use it still run.
    assert bpmn_checks.unused_handlers(RESOURCES, HANDLERS) == []


@pytest.mark.parametrize("job_type", sorted(RESOURCES.job_types()))
def test_a_job_type_is_named_after_its_owning_service(job_type):
    assert HANDLERS[job_type] == [job_type.split(".")[0]]
