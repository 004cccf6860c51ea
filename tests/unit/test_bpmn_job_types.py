"""Every job type in the BPMN leads in one hop to exactly one handler, in the service its name names."""
import re
from pathlib import Path

import pytest

from runtime.zeebe import JOB_RETRIES
from services.delivery import workers as delivery_workers
from services.order import workers as order_workers
from services.warehouse import workers as warehouse_workers
from tools.bootstrap import BPMN_DIR

HANDLERS = {
    "order": order_workers.handlers,
    "warehouse": warehouse_workers.handlers,
    "delivery": delivery_workers.handlers,
}


def job_types_in_bpmn() -> set[str]:
    return {t for f in BPMN_DIR.glob("*.bpmn")
            for t in re.findall(r'zeebe:taskDefinition type="([^"]+)"', f.read_text())}


def handled() -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for service, handlers in HANDLERS.items():
        for job_type in handlers.job_types:
            owners.setdefault(job_type, []).append(service)
    return owners


def test_every_job_type_in_the_bpmn_has_exactly_one_handler():
    owners = handled()
    assert {t: owners.get(t) for t in job_types_in_bpmn() if len(owners.get(t, [])) != 1} == {}


def test_no_handler_waits_for_a_job_type_the_bpmn_does_not_use():
    assert set(handled()) - job_types_in_bpmn() == set()


@pytest.mark.parametrize("job_type", sorted(job_types_in_bpmn()))
def test_a_job_type_is_named_after_its_owning_service(job_type):
    assert handled()[job_type] == [job_type.split(".")[0]]


def test_every_linked_form_is_deployed_with_the_processes():
    linked = {f for p in BPMN_DIR.glob("*.bpmn") for f in re.findall(r'formId="([^"]+)"', p.read_text())}
    shipped = {Path(p).stem for p in BPMN_DIR.glob("*.form")}
    assert linked and linked <= shipped


def test_every_service_task_has_the_retry_budget_the_workers_back_off_for():
    # The worker derives each wait from the retries left, so the BPMN and the runtime must agree.
    tasks = [m for f in BPMN_DIR.glob("*.bpmn") for m in re.findall(r"<zeebe:taskDefinition [^>]*>", f.read_text())]
    assert tasks and all(f'retries="{JOB_RETRIES}"' in task for task in tasks), tasks
