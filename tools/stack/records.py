"""Answers about process instances, incidents and user tasks, read from the engine's records on Kafka.

The broker's Kafka exporter (tools/stack/exporter) publishes every engine event to ENGINE_RECORDS_TOPIC;
this module reads that topic from its start and folds the records into current state, for the tests,
the chaos verdict and the bench.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from shared.contracts.registry import ENGINE_RECORDS_TOPIC


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


@dataclass(frozen=True)
class ProcessView:
    """What the engine reported about one business key's instances (their called instances included)."""

    instances: list[int]
    running: list[int]
    # Elements active now (tasks, events, gateways), in these instances or those they called.
    waiting_at: list[str]
    incidents: list[Incident]


T = TypeVar("T")
_ENDED = ("ELEMENT_COMPLETED", "ELEMENT_TERMINATED")
# Elements that only hold others; the element inside tells where an instance waits.
_CONTAINERS = ("PROCESS", "SUB_PROCESS", "EVENT_SUB_PROCESS", "CALL_ACTIVITY", "MULTI_INSTANCE_BODY")


def _incident(record: dict) -> Incident:
    value = record["value"]
    return Incident(key=record["key"], process_instance_key=value["processInstanceKey"],
                    element_id=value["elementId"], error_type=value["errorType"],
                    message=value["errorMessage"], job_key=value["jobKey"])


def _user_task(record: dict) -> UserTask:
    value = record["value"]
    return UserTask(key=record["key"], process_instance_key=value["processInstanceKey"],
                    element_id=value["elementId"], variables=value.get("variables", {}))


class RecordLog:
    """Every record read so far, kept parsed by value type; each question first reads what is new.

    The exporter delivers at least once (a restarted broker exports again what Kafka had not
    acknowledged; a replaced producer sends again what it had not confirmed), so a record seen before,
    identified by its Zeebe partition and position, is skipped.
    """

    READ_TIMEOUT_SECONDS = 30

    def __init__(self, bootstrap: str, topic: str = ENGINE_RECORDS_TOPIC) -> None:
        self.topic = topic
        self.bootstrap = bootstrap
        self._consumer: Consumer | None = None  # connected at the first question
        self.by_type: dict[str, list[dict]] = {}
        self.in_order: list[dict] = []
        self.seen: set[tuple[int, int]] = set()
        self.assigned: set[int] = set()

    @property
    def consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "record-log-reader",
                                       "enable.auto.commit": False, "enable.partition.eof": False,
                                       # Watermark queries queue behind a pending fetch: keep fetches short.
                                       "fetch.wait.max.ms": 10})
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _catch_up(self) -> None:
        """Read up to where the topic ended when asked."""
        partitions = self.consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
        new = [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions if p not in self.assigned]
        if new:
            self.consumer.incremental_assign(new)
            self.assigned.update(p.partition for p in new)
        ends = {p: self._end_of(p) for p in self.assigned}
        behind = {p for p, end in ends.items() if end > self._next_offset(p)}
        # A long topic takes a while to read: only a read that stops getting anything is stalled.
        deadline = time.monotonic() + self.READ_TIMEOUT_SECONDS
        while behind:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {self.topic} stalled for {self.READ_TIMEOUT_SECONDS} s before offsets "
                                   f"{ends}")
            for message in self.consumer.consume(1000, timeout=0.2):
                if message.error():
                    continue
                deadline = time.monotonic() + self.READ_TIMEOUT_SECONDS
                self._take(json.loads(message.value()))
                if message.offset() + 1 >= ends[message.partition()]:
                    behind.discard(message.partition())

    def _end_of(self, partition: int) -> int:
        """The partition's end offset; a Kafka that just restarted answers "not leader" for a few seconds."""
        deadline = time.monotonic() + self.READ_TIMEOUT_SECONDS
        while True:
            try:
                return self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=10)[1]
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _next_offset(self, partition: int) -> int:
        [position] = self.consumer.position([TopicPartition(self.topic, partition)])
        return max(position.offset, 0)

    def _take(self, record: dict) -> None:
        identity = (record["partitionId"], record["position"])
        if identity in self.seen:
            return
        self.seen.add(identity)
        self.by_type.setdefault(record["valueType"], []).append(record)
        self.in_order.append(record)

    def records(self, value_type: str | None = None) -> Iterator[dict]:
        self._catch_up()
        yield from (self.in_order if value_type is None else self.by_type.get(value_type, []))

    def process_instance_state(self, process_instance_key: int) -> str | None:
        """ACTIVE, COMPLETED or TERMINATED (cancelled), or None if the engine never reported it."""
        state = None
        for record in self.records("PROCESS_INSTANCE"):
            if record["key"] == process_instance_key and record["value"]["bpmnElementType"] == "PROCESS":
                state = {"ELEMENT_ACTIVATED": "ACTIVE", "ELEMENT_COMPLETED": "COMPLETED",
                         "ELEMENT_TERMINATED": "TERMINATED"}.get(record["intent"], state)
        return state

    def instances_with_variable(self, name: str, value) -> list[int]:
        """Process instances that set variable `name` to `value` (e.g. orderId), oldest first.

        Oldest by the engine's position, not by arrival: records of different instances travel on
        different Kafka partitions, and after an outage one partition may be caught up before another.
        (A called process runs on its parent's Zeebe partition, so the positions compare.)"""
        encoded = json.dumps(value)
        first_set: dict[int, int] = {}
        for record in self.records("VARIABLE"):
            variable = record["value"]
            if record["intent"] == "CREATED" and variable["name"] == name and variable["value"] == encoded:
                instance = variable["processInstanceKey"]
                first_set[instance] = min(record["position"], first_set.get(instance, record["position"]))
        return sorted(first_set, key=first_set.__getitem__)

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

    def processes_by_variable(self, name: str, process_id: str) -> dict[object, ProcessView]:
        """For each value of variable `name` set at the top of a `process_id` instance (e.g. orderId):
        the instances, which still run, where they wait and their open incidents. One pass over the log."""
        instances: dict[object, list[int]] = {}
        parent: dict[int, int] = {}
        running: dict[int, bool] = {}
        active: dict[int, tuple[int, str]] = {}
        incidents: dict[int, Incident] = {}
        for record in self.records():
            value, intent = record["value"], record["intent"]
            if record["valueType"] == "VARIABLE":
                if (intent == "CREATED" and value["name"] == name and value["bpmnProcessId"] == process_id
                        and value["scopeKey"] == value["processInstanceKey"]):
                    instances.setdefault(json.loads(value["value"]), []).append(value["processInstanceKey"])
            elif record["valueType"] == "PROCESS_INSTANCE":
                element_type = value["bpmnElementType"]
                if element_type == "PROCESS":
                    parent[record["key"]] = value["parentProcessInstanceKey"]
                    running[record["key"]] = intent not in _ENDED
                elif element_type not in _CONTAINERS:
                    if intent == "ELEMENT_ACTIVATED":
                        active[record["key"]] = (value["processInstanceKey"], value["elementId"])
                    elif intent in _ENDED:
                        active.pop(record["key"], None)
            elif record["valueType"] == "INCIDENT":
                if intent == "CREATED":
                    incidents[record["key"]] = _incident(record)
                elif intent == "RESOLVED":
                    incidents.pop(record["key"], None)

        def root(instance: int) -> int:
            while parent.get(instance, -1) > 0:
                instance = parent[instance]
            return instance

        waiting: dict[int, list[str]] = {}
        for instance, element in active.values():
            waiting.setdefault(root(instance), []).append(element)
        open_by_root: dict[int, list[Incident]] = {}
        for incident in incidents.values():
            open_by_root.setdefault(root(incident.process_instance_key), []).append(incident)
        return {
            value: ProcessView(
                instances=keys, running=[k for k in keys if running.get(k)],
                waiting_at=sorted(e for k in keys for e in waiting.get(k, [])),
                incidents=[i for k in keys for i in open_by_root.get(k, [])])
            for value, keys in instances.items()
        }

    def open_incidents(self, process_instance_key: int | None = None) -> list[Incident]:
        return self._still_open("INCIDENT", _incident, ("RESOLVED",), process_instance_key)

    def open_user_tasks(self, process_instance_key: int | None = None) -> list[UserTask]:
        return self._still_open("USER_TASK", _user_task, ("COMPLETED", "CANCELED"), process_instance_key)

    def _still_open(self, value_type: str, read: Callable[[dict], T], closing: tuple[str, ...],
                    process_instance_key: int | None) -> list[T]:
        """What was CREATED and has seen none of the `closing` intents since, of one instance or of all."""
        still_open: dict[int, T] = {}
        for record in self.records(value_type):
            if process_instance_key not in (None, record["value"]["processInstanceKey"]):
                continue
            if record["intent"] == "CREATED":
                still_open[record["key"]] = read(record)
            elif record["intent"] in closing:
                still_open.pop(record["key"], None)
        return list(still_open.values())
