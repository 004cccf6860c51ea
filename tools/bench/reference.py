"""The yardstick: what the engine completes of the project's own BPMN when every job is answered at once.

The two BPMN files are deployed again under other names (process ids, message names and job types prefixed
`bench-ref.`), so no real order, worker or message can meet them. Instances start as the Order service starts
them (the order-placed message, keyed by the order id, with the same variables), and no-op pyzeebe workers —
one per owning service, built with the services' own helpers — complete each job with what the happy path
needs (full stock, packed, delivered) and publish delivery-completed once the delivery job is completed.
"""
# No `from __future__ import annotations` here: pyzeebe finds a handler's Job parameter by its annotation object.
import asyncio
import json
import logging
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from confluent_kafka import Message
from pyzeebe import Job, ZeebeClient, ZeebeTaskRouter, ZeebeWorker
from pyzeebe.errors import ProcessInstanceNotFoundError, ZeebeBackPressureError
from pyzeebe.job.job_status import JobStatus

from services.order.settings import OrderSettings
from shared.contracts.base import Line
from shared.contracts.delivery import (
    DELIVERY_COMPLETED,
    CheckDelivered,
    CheckDeliveredResult,
    Delivered,
    StartDelivery,
    StartDeliveryResult,
)
from shared.contracts.order import ORDER_PLACED, CompleteOrder
from shared.contracts.process import FULFILMENT_PROCESS, OrderStart
from shared.contracts.registry import DELIVERY, ENGINE_RECORDS_TOPIC, ORDER, WAREHOUSE
from shared.contracts.warehouse import PickPack, PickPackResult, ReservationOutcome, ReserveStock, ReserveStockResult
from shared.runtime.zeebe import JOB_TIMEOUT_MS, build_worker, make_channel, make_client
from tools.bench.loops import Completions, Feed, Finish
from tools.bench.measure import POLLER_PAUSES
from tools.bootstrap import BPMN_DIR
from tools.stack.config import StackSettings

PREFIX = "bench-ref."
PROCESS_FILES = ("order-fulfillment.bpmn", "order-shipment.bpmn")
REFERENCE_SKU = "BENCH-REF"
# How long to wait between two tries of a request the broker refused with RESOURCE_EXHAUSTED: the Order
# service's outbox waits as long (shared.runtime.outbox).
BACK_PRESSURE_PAUSE = 0.05
RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
JOB_POLLER_LOGGER = "pyzeebe.worker.job_poller"

# The jobs of the happy path (full stock, delivered), which the no-op workers answer.
HAPPY_PATH = (ReserveStock, PickPack, StartDelivery, CheckDelivered, CompleteOrder)

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
_ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"


def renamed(path: Path, prefix: str = PREFIX) -> bytes:
    """The BPMN file with every process id, called process, message name and job type prefixed."""
    # Keep the file's own prefixes: `xsi:type="bpmn:tFormalExpression"` names one in an attribute value.
    for _, (name, uri) in ET.iterparse(path, events=["start-ns"]):
        ET.register_namespace(name, uri)
    root = ET.parse(path).getroot()
    for element, attribute in ((f"{_BPMN}process", "id"), (f"{_ZEEBE}calledElement", "processId"),
                               (f"{_BPMN}message", "name"), (f"{_ZEEBE}taskDefinition", "type")):
        for found in root.iter(element):
            found.set(attribute, prefix + found.get(attribute))
    processes = {p.get("id") for p in root.iter(f"{_BPMN}process")}
    for plane in root.iter(f"{_BPMNDI}BPMNPlane"):
        if prefix + plane.get("bpmnElement") in processes:
            plane.set("bpmnElement", prefix + plane.get("bpmnElement"))
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _no_op_routers(messages: ZeebeClient, push_back: Counter) -> dict[str, ZeebeTaskRouter]:
    """One router per service that owns a job type of the happy path; each job is completed at once."""
    routers = {service.name: ZeebeTaskRouter() for service in (WAREHOUSE, DELIVERY, ORDER)}
    deliveries: set[asyncio.Task] = set()  # held until done: the event loop keeps only weak references
    full = ReserveStockResult(reservation_outcome=ReservationOutcome.FULL).to_variables()
    # The real check usually answers "not yet": the courier finishes the delivery a moment after the command,
    # so the shipment waits for delivery-completed; the no-op does the same, so the engine correlates it.
    not_yet = CheckDeliveredResult(delivered_at=None).to_variables()
    shipped = [Line(sku=REFERENCE_SKU, quantity=1)]

    def task(service: str, contract):
        return routers[service].task(PREFIX + contract.job_type, variables_to_fetch=contract.names(),
                                     timeout_ms=JOB_TIMEOUT_MS)

    @task(WAREHOUSE.name, ReserveStock)
    async def reserve_stock(**_) -> dict:
        return full

    @task(WAREHOUSE.name, PickPack)
    async def pick_pack(**variables) -> dict:
        shipment_id = f"{variables['orderId']}-{variables['shipmentNo']}"
        return PickPackResult(shipment_id=shipment_id, shipment_items=shipped).to_variables()

    @task(DELIVERY.name, StartDelivery)
    async def start_delivery(job: Job, **variables) -> dict:
        delivery_id = str(uuid.uuid4())
        delivering = asyncio.create_task(deliver(job, variables["shipmentId"], delivery_id))
        deliveries.add(delivering)
        delivering.add_done_callback(deliveries.discard)
        return StartDeliveryResult(delivery_id=delivery_id).to_variables()

    async def deliver(job: Job, shipment_id: str, delivery_id: str) -> None:
        """delivery-completed, published once pyzeebe has completed the delivery job (as the courier would)."""
        give_up = time.monotonic() + JOB_TIMEOUT_MS / 1000
        while job.status in (JobStatus.Running, JobStatus.RunningAfterDecorators) and time.monotonic() < give_up:
            await asyncio.sleep(0.001)  # pyzeebe offers no hook after the completion
        if job.status is not JobStatus.Completed:
            return
        delivered = Delivered(delivered_at=datetime.now(timezone.utc).isoformat()).to_variables()
        while True:
            try:
                await messages.publish_message(PREFIX + DELIVERY_COMPLETED.name, correlation_key=shipment_id,
                                               variables=delivered, message_id=delivery_id,
                                               time_to_live_in_milliseconds=DELIVERY_COMPLETED.ttl_ms)
                return
            except ZeebeBackPressureError:
                push_back[RESOURCE_EXHAUSTED] += 1
                await asyncio.sleep(BACK_PRESSURE_PAUSE)

    @task(DELIVERY.name, CheckDelivered)
    async def check_delivered(**_) -> dict:
        return not_yet

    @task(ORDER.name, CompleteOrder)
    async def complete_order(**_) -> dict:
        return {}

    return routers


class _CountPollerPauses(logging.Filter):
    """Counts the no-op workers' polling pauses instead of printing pyzeebe's warning for each."""

    def __init__(self, push_back: Counter) -> None:
        super().__init__()
        self.push_back = push_back

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for name, text in POLLER_PAUSES.items():
            if text in message:
                self.push_back[name] += 1
                return False
        return True


class InstanceEnds(Feed):
    """Follows the engine's records on Kafka from their current end and reports when each reference instance ends.

    The broker's exporter publishes every engine event anyway, so following them costs the engine nothing
    more; a cheap substring test skips the records of other processes before any JSON is parsed. An
    instance's orderId comes from its VARIABLE record; the PROCESS element's ELEMENT_COMPLETED record is the
    end of the instance, and its timestamp (the engine's clock, real time unless a test pinned it, in which
    case the time the record was read is taken) says when.
    """

    def __init__(self, settings: StackSettings, completions: Completions, process_id: str) -> None:
        super().__init__("bench-reference-records", completions, settings.kafka_bootstrap, [ENGINE_RECORDS_TOPIC])
        self.mark = f'"bpmnProcessId":"{process_id}"'
        self.process_id = process_id
        self.order_of: dict[int, str] = {}  # process instance key -> orderId, until the instance ends

    def take(self, record: Message) -> None:
        line = record.value().decode()
        if self.mark not in line:
            return
        if '"valueType":"VARIABLE"' in line and '"name":"orderId"' in line and '"intent":"CREATED"' in line:
            value = json.loads(line)["value"]
            if value["scopeKey"] == value["processInstanceKey"]:
                self.order_of[value["processInstanceKey"]] = json.loads(value["value"])
        elif '"bpmnElementType":"PROCESS"' in line and ('"intent":"ELEMENT_COMPLETED"' in line
                                                         or '"intent":"ELEMENT_TERMINATED"' in line):
            event = json.loads(line)
            order_id = self.order_of.pop(event["key"], None)
            if order_id is not None:
                seen = time.time()
                at = event["timestamp"] / 1000
                self.completions.report(order_id, Finish(at=at if abs(seen - at) < 5 else seen,
                                                         ok=event["intent"] == "ELEMENT_COMPLETED", seen=seen))


class Reference:
    """The reference side of the bench: deploy once, then per phase `begin`, `start` many, `end`."""

    name = "reference"

    def __init__(self, settings: StackSettings, run: str) -> None:
        self.settings = settings
        self.run = run
        self.client: ZeebeClient | None = None
        # The no-op workers' polling pauses, and starts and delivery messages refused with RESOURCE_EXHAUSTED.
        self.push_back = Counter({**dict.fromkeys(POLLER_PAUSES, 0), RESOURCE_EXHAUSTED: 0})
        self.poller_pauses = _CountPollerPauses(self.push_back)
        self.workers: list[tuple[ZeebeWorker, asyncio.Task, object]] = []
        self.ends: InstanceEnds | None = None
        self.cancelled: list[str] = []
        start = OrderStart(order_id="-", items=[Line(sku=REFERENCE_SKU, quantity=1)], accepts_partial=True,
                           **dict(OrderSettings().deadlines()))
        self.start_variables = start.to_variables()

    async def open(self) -> None:
        """Connect and deploy the renamed processes (deploying the same files again changes nothing)."""
        logging.getLogger(JOB_POLLER_LOGGER).addFilter(self.poller_pauses)
        self.client = make_client(self.settings.zeebe_address)
        folder = self.settings.state_dir / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for name in PROCESS_FILES:
            files.append(folder / f"{PREFIX}{name}")
            files[-1].write_bytes(renamed(BPMN_DIR / name))
        # The decision and the forms as they are: the processes find them in their own deployment (bindingType
        # "deployment"), so they are deployed with the renamed processes.
        files += sorted(p for pattern in ("*.dmn", "*.form") for p in BPMN_DIR.glob(pattern))
        await self.client.deploy_resource(*files)

    async def begin(self, completions: Completions) -> None:
        self.ends = InstanceEnds(self.settings, completions, PREFIX + FULFILMENT_PROCESS)
        self.ends.start()
        for service, router in _no_op_routers(self.client, self.push_back).items():
            channel = make_channel(self.settings.zeebe_address)
            worker = build_worker(channel, f"{PREFIX}{service}", router)
            self.workers.append((worker, asyncio.create_task(worker.work()), channel))

    async def start(self, number: int) -> str:
        order_id = f"{PREFIX}{self.run}-{number}"
        variables = {**self.start_variables, "orderId": order_id}
        while True:
            try:
                await self.client.publish_message(PREFIX + ORDER_PLACED.name, correlation_key=order_id,
                                                  variables=variables, message_id=order_id,
                                                  time_to_live_in_milliseconds=ORDER_PLACED.ttl_ms)
                return order_id
            except ZeebeBackPressureError:
                self.push_back[RESOURCE_EXHAUSTED] += 1
                await asyncio.sleep(BACK_PRESSURE_PAUSE)

    async def end(self) -> dict[str, dict[str, float]]:
        """Stop the workers (each finishes the jobs it holds) and the engine-record reader, and cancel the instances
        that have not ended: no worker would serve them any more. No milestones to return."""
        for worker, _, _ in self.workers:
            await worker.stop()
        for _, work, channel in self.workers:
            await asyncio.wait_for(work, 30)
            await channel.close()
        self.workers = []
        if self.ends is not None:
            self.ends.stop()
            for key, order_id in self.ends.order_of.items():
                try:
                    await self.client.cancel_process_instance(key)
                    self.cancelled.append(order_id)
                except ProcessInstanceNotFoundError:
                    pass  # it ended after the reader stopped
        return {}

    def counters(self) -> dict[str, int]:
        """The workers' polling pauses and the refused requests (each tried again), so far in this run."""
        return dict(self.push_back)

    async def close(self) -> list[str]:
        """The orderIds of the instances `end` cancelled during the run."""
        logging.getLogger(JOB_POLLER_LOGGER).removeFilter(self.poller_pauses)
        return self.cancelled
