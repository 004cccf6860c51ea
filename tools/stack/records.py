"""Answers about process instances, incidents and user tasks, read from the engine's record log.

Stands in for Operate's data on this stack (see docs/adr/0002-camunda-distribution.md): the
record-log exporter appends every engine event, and this module folds them into current state.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Incident:
    key: int
    process_instance_key: int
    element_id: str
    error_type: str
    message: str
    job_key: int


@dataclass(frozen=True)
class UserTask:
    key: int
    process_instance_key: int
    element_id: str
    variables: dict


class RecordLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self, value_type: str | None = None) -> Iterator[dict]:
        if not self.path.is_file():
            return
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    break  # the exporter is still writing this one
                record = json.loads(line)
                if value_type is None or record["valueType"] == value_type:
                    yield record

    def process_instance_state(self, process_instance_key: int) -> str | None:
        """ACTIVE, COMPLETED or TERMINATED (cancelled), or None if the engine never reported it."""
        state = None
        for record in self.records("PROCESS_INSTANCE"):
            if record["key"] == process_instance_key and record["value"]["bpmnElementType"] == "PROCESS":
                state = {"ELEMENT_ACTIVATED": "ACTIVE", "ELEMENT_COMPLETED": "COMPLETED",
                         "ELEMENT_TERMINATED": "TERMINATED"}.get(record["intent"], state)
        return state

    def instances_with_variable(self, name: str, value) -> list[int]:
        """Process instances that set variable `name` to `value` (e.g. orderId), oldest first."""
        encoded = json.dumps(value)
        found = []
        for record in self.records("VARIABLE"):
            variable = record["value"]
            if (record["intent"] == "CREATED" and variable["name"] == name and variable["value"] == encoded
                    and variable["processInstanceKey"] not in found):
                found.append(variable["processInstanceKey"])
        return found

    def visited_elements(self, process_instance_key: int, intent: str = "ELEMENT_COMPLETED") -> list[str]:
        """Element ids the instance completed (or, with another intent, e.g. terminated), in order."""
        return [r["value"]["elementId"] for r in self.records("PROCESS_INSTANCE")
                if r["value"]["processInstanceKey"] == process_instance_key and r["intent"] == intent]

    def open_instances_by_variable(self, name: str) -> dict:
        """For each value of variable `name`: does an instance that set it still run? One pass over the log."""
        running: dict[int, bool] = {}
        values: dict[int, object] = {}
        for record in self.records():
            value = record["value"]
            if record["valueType"] == "VARIABLE" and record["intent"] == "CREATED" and value["name"] == name:
                values.setdefault(value["processInstanceKey"], json.loads(value["value"]))
            elif record["valueType"] == "PROCESS_INSTANCE" and value["bpmnElementType"] == "PROCESS":
                running[record["key"]] = record["intent"] not in ("ELEMENT_COMPLETED", "ELEMENT_TERMINATED")
        live: dict = {}
        for instance, variable in values.items():
            live[variable] = live.get(variable, False) or running.get(instance, False)
        return live

    def open_incidents(self, process_instance_key: int | None = None) -> list[Incident]:
        incidents: dict[int, Incident] = {}
        for record in self.records("INCIDENT"):
            value = record["value"]
            if process_instance_key is not None and value["processInstanceKey"] != process_instance_key:
                continue
            if record["intent"] == "CREATED":
                incidents[record["key"]] = Incident(
                    key=record["key"], process_instance_key=value["processInstanceKey"],
                    element_id=value["elementId"], error_type=value["errorType"],
                    message=value["errorMessage"], job_key=value["jobKey"])
            elif record["intent"] == "RESOLVED":
                incidents.pop(record["key"], None)
        return list(incidents.values())

    def open_user_tasks(self, process_instance_key: int | None = None) -> list[UserTask]:
        tasks: dict[int, UserTask] = {}
        for record in self.records("USER_TASK"):
            value = record["value"]
            if process_instance_key is not None and value["processInstanceKey"] != process_instance_key:
                continue
            if record["intent"] == "CREATED":
                tasks[record["key"]] = UserTask(key=record["key"], process_instance_key=value["processInstanceKey"],
                                                element_id=value["elementId"], variables=value.get("variables", {}))
            elif record["intent"] in ("COMPLETED", "CANCELED"):
                tasks.pop(record["key"], None)
        return list(tasks.values())
