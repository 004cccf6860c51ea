"""Engine records captured from a real run (tests/unit/data/engine-records.jsonl), for the monitor's tests.

The run: an order that completed (with its shipment's called instance), an order of an unknown SKU whose
incident was retried, came back and whose instance was then cancelled, and an order that waited for stock
past its deadline, whose user task a person completed with "cancel". Each deployed process's resource is
left out of the file and read from bpmn/, from which it was deployed.
"""
from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path

from tools.bootstrap import BPMN_DIR

RECORDS = Path(__file__).with_name("data") / "engine-records.jsonl"

COMPLETED_ORDER = "5e6c45ff-0ff7-4545-a09d-b8ae4351c991"
COMPLETED_INSTANCE = 2251799813685282
SHIPMENT_INSTANCE = 2251799813685350
FAILED_ORDER = "62475120-cfdb-42ee-bcef-a642a1ebaac6"
FAILED_INSTANCE = 2251799813685309
LATE_ORDER = "a5913f24-838e-4b6c-9356-8c6bf7036793"
LATE_INSTANCE = 2251799813685427
FULFILMENT_DEFINITION = 2251799813685252


@cache
def _lines() -> tuple[str, ...]:
    return tuple(RECORDS.read_text().splitlines())


def engine_records() -> list[dict]:
    """Every record, in the engine's order, as the exporter publishes them (fresh copies)."""
    records = [json.loads(line) for line in _lines()]
    for record in records:
        if record["valueType"] == "PROCESS":
            xml = (BPMN_DIR / record["value"]["resourceName"]).read_bytes()
            record["value"]["resource"] = base64.b64encode(xml).decode()
    return records


def of_instance(key: int) -> list[dict]:
    return [r for r in engine_records() if r["value"].get("processInstanceKey") == key]
