"""Running orders move to a new version of their process (`fulfil process migrate`), on the real engine: an order
at each kind of wait of version 1 (an incident, the review, backordered stock, its delivery and the delivery's
shipment) is migrated to a version 2 that adds a step and completes there. An order at an element the plan does not
map is refused before the engine is asked and completes on version 1.

Zeebe 8.6 refuses an instance while a token of it waits at a joining parallel gateway ("a concurrent command was
executed"); the fulfilment has none since 1.1, and an order of a version shaped like 1.0 (a Join after the Fork) is
asserted refused, verbatim, and left to finish on its version (docs/changing-the-process.md).
"""
from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from services.monitor.domain import element_ids
from tests.conftest import eventually
from tests.e2e.conftest import (
    delivery_of,
    deployed_variant,
    place,
    production_of,
    wait_for_status,
    wait_until_awaiting_delivery,
)
from tools.bootstrap import BPMN_DIR

pytestmark = pytest.mark.usefixtures("invariants")

NEW_STEP = "MigrationPassed"
REVIEWED_UNITS = 100  # bpmn/order-review.dmn, Rule_ReviewLarge: the order waits at ReviewOrder
PROCESSES = ("order-fulfillment", "order-shipment")
# Where no plan need go: nothing waits at them, or (start events) nothing is active at them.
NOT_PLANNED = {"exclusiveGateway", "parallelGateway", "endEvent", "intermediateThrowEvent"}


def tagged(tag: str):
    """The files of bpmn/ with every process tagged `tag`, so the test's plans name this test's versions only."""
    def edit(name: str, text: str) -> str:
        return re.sub(r'<zeebe:versionTag value="[^"]*" />', f'<zeebe:versionTag value="{tag}" />', text)
    return edit


def with_a_new_step(tag: str):
    """Version 2: an intermediate throw event between the fulfilment and CompleteOrder (no job, no handler)."""
    def edit(name: str, text: str) -> str:
        text = tagged(tag)(name, text)
        if name != "order-fulfillment.bpmn":
            return text
        flow = '<bpmn:sequenceFlow id="Flow_ToComplete" sourceRef="Fulfil" targetRef="CompleteOrder" />'
        assert text.count(flow) == 1 and text.count("<bpmn:incoming>Flow_ToComplete</bpmn:incoming>") == 1
        return (text.replace(flow, flow.replace('targetRef="CompleteOrder"', f'targetRef="{NEW_STEP}"')
                                   + f'<bpmn:intermediateThrowEvent id="{NEW_STEP}" name="Migrated" />'
                                   f'<bpmn:sequenceFlow id="Flow_FromNewStep" sourceRef="{NEW_STEP}" '
                                   'targetRef="CompleteOrder" />')
                .replace("<bpmn:incoming>Flow_ToComplete</bpmn:incoming>",
                         "<bpmn:incoming>Flow_FromNewStep</bpmn:incoming>"))
    return edit


def with_the_join_of_1_0(tag: str):
    """The fulfilment as 1.0 had it: both branches after the Fork meet at a parallel gateway `Join` before Fulfilled
    (no diagram: the engine does not need one)."""
    def edit(name: str, text: str) -> str:
        text = tagged(tag)(name, text)
        if name != "order-fulfillment.bpmn":
            return text
        text = re.sub(r"\s*<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", text, flags=re.S)
        for old, new in (
                ('<bpmn:incoming>Flow_BackorderToEnd</bpmn:incoming>',
                 '<bpmn:incoming>Flow_ToFulfilled</bpmn:incoming>'),
                ('sourceRef="ShipNowDone" targetRef="ShippedNow"', 'sourceRef="ShipNowDone" targetRef="Join"'),
                ('sourceRef="BackorderDone" targetRef="Fulfilled" />',
                 'sourceRef="BackorderDone" targetRef="Join" />'
                 '<bpmn:sequenceFlow id="Flow_ToFulfilled" sourceRef="Join" targetRef="Fulfilled" />')):
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        text, joined = re.subn(r'<bpmn:endEvent id="ShippedNow".*?</bpmn:endEvent>',
                               '<bpmn:parallelGateway id="Join"><bpmn:incoming>Flow_ShipNowToEnd</bpmn:incoming>'
                               '<bpmn:incoming>Flow_BackorderToEnd</bpmn:incoming>'
                               '<bpmn:outgoing>Flow_ToFulfilled</bpmn:outgoing></bpmn:parallelGateway>',
                               text, flags=re.S)
        assert joined == 1
        return text
    return edit


def write_plans(directory: Path, from_tag: str, to_tag: str, leave_out: tuple[str, ...] = ()) -> Path:
    """Identity plans of every activity and event a process can wait at, but `leave_out`."""
    for process in PROCESSES:
        ids = element_ids((BPMN_DIR / f"{process}.bpmn").read_text(), process)
        lines = [f'["{from_tag}"."{to_tag}"]'] + [f'{e} = "{e}"' for e, kind in ids.items()
                                                   if kind not in NOT_PLANNED and e not in leave_out]
        (directory / f"{process}.toml").write_text("\n".join(lines) + "\n")
    return directory


def migrate(from_version: int, to_version: int, plans: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli", "process", "migrate", "order-fulfillment",
                           "--from", str(from_version), "--to", str(to_version), "--plans", str(plans),
                           "--batch", "2", *extra], cwd=BPMN_DIR.parent, capture_output=True, text=True, timeout=300)


def root_of(monitor_api, order_id: str) -> dict:
    def find():
        items = monitor_api.get("/instances", params={"order_id": order_id}).json()["items"]
        return next((i for i in items if i["parent_key"] is None), None)
    return eventually(find, what=f"the monitor to show the process of order {order_id}")


def detail(monitor_api, key: int) -> dict:
    return monitor_api.get(f"/instances/{key}").json()


def waiting_at(monitor_api, order_id: str, *element_ids: str, process: str = "order-fulfillment") -> dict:
    """The order's instance of `process` once the monitor shows it active at one of `element_ids`."""
    def find():
        for item in monitor_api.get("/instances", params={"order_id": order_id}).json()["items"]:
            found = detail(monitor_api, item["key"])
            if found["bpmn_process_id"] == process and set(element_ids) & set(found["active_elements"]):
                return found
        return None
    return eventually(find, what=f"order {order_id} to wait at {' or '.join(element_ids)} in the monitor")


def definition_known(monitor_api, version: int) -> None:
    eventually(lambda: any(d["bpmn_process_id"] == "order-fulfillment" and d["version"] == version
                           for d in monitor_api.get("/definitions").json()),
               what=f"the monitor to know order-fulfillment version {version}")


def concurrent_command(key: int) -> str:
    """Zeebe 8.6's refusal of an instance with a token waiting at a joining parallel gateway, verbatim."""
    return (f"Command 'MIGRATE' rejected with code 'INVALID_STATE': Expected to migrate process instance '{key}' but "
            "a concurrent command was executed on the process instance. Please retry the migration.")


def completed_on(monitor_api, key: int, version: int) -> dict:
    return eventually(lambda: (d := detail(monitor_api, key))["state"] == "COMPLETED" and d["version"] == version
                      and d, what=f"instance {key} to complete on version {version}")


def answer(monitor_api, camunda_api, instance_key: int, element_id: str, variables: dict) -> None:
    task = eventually(lambda: next((t for t in detail(monitor_api, instance_key)["user_tasks"]
                                    if t["element_id"] == element_id and t["state"] == "CREATED"), None),
                      what=f"the task {element_id} of instance {instance_key}")
    response = camunda_api.post(f"/v2/user-tasks/{task['key']}/completion", json={"variables": variables})
    assert response.status_code == 204, response.text


def answer_review(monitor_api, camunda_api, instance_key: int) -> None:
    answer(monitor_api, camunda_api, instance_key, "ReviewOrder", {"review": "approve"})


def go_on_if_a_person_was_asked(monitor_api, camunda_api, instance: dict, task: str) -> None:
    """The engine's clock is shared: another test moving it fires the wait's deadline, and a person is asked."""
    if task in detail(monitor_api, instance["key"])["active_elements"]:
        answer(monitor_api, camunda_api, instance["key"], task, {"decision": "continue"})


@pytest.fixture
def production_held(stack, service_db):
    """`hold(order_id)`: the factory's production for the order stays unmade (its row locked: the production loop
    skips locked rows) until the test lets go, whatever other tests do to the production line meanwhile."""
    engine = create_engine(stack.database_url("factory"))
    connection = engine.connect()
    connection.begin()

    def hold(order_id: str) -> None:
        eventually(lambda: production_of(service_db, order_id), what=f"the replenishment for {order_id}")
        held = connection.execute(text("SELECT status FROM production_orders WHERE order_id = :id FOR UPDATE"),
                                  {"id": order_id}).scalars().all()
        assert held == ["REQUESTED"], f"the factory made it before the test could hold it: {held}"

    hold.release = connection.commit
    yield hold
    connection.close()
    engine.dispose()


def test_orders_at_every_kind_of_wait_move_with_their_shipments_and_complete_on_the_new_version(
        stack, order_api, warehouse_api, monitor_api, camunda_api, fresh_sku, sku_the_warehouse_lacks,
        paused_production, production_held, delivery_locks, service_db, engine_records, tmp_path):
    run = uuid.uuid4().hex[:6]
    v1_tag, v2_tag = f"migration-{run}-1", f"migration-{run}-2"
    with deployed_variant(stack, tagged(v1_tag)) as first:
        v1 = first["order-fulfillment"]
        definition_known(monitor_api, v1)
        lacking = sku_the_warehouse_lacks()
        failing = place(order_api, items=[{"sku": lacking, "quantity": 1}])  # incident at ReserveStock
        reviewed = place(order_api, items=[{"sku": fresh_sku(REVIEWED_UNITS), "quantity": REVIEWED_UNITS}])
        backordered = place(order_api, items=[{"sku": fresh_sku(0), "quantity": 1}])
        production_held(backordered)
        delivering = place(order_api, items=[{"sku": fresh_sku(2), "quantity": 1}])
        eventually(lambda: delivery_of(service_db, delivering), interval=0.05, what="the delivery")
        assert delivery_locks.hold_delivery(delivering).status == "DISPATCHED", "the courier finished first"
        wait_until_awaiting_delivery(engine_records, delivering)

        at_incident = waiting_at(monitor_api, failing, "ReserveStock")
        eventually(lambda: detail(monitor_api, at_incident["key"])["open_incidents"] == 1, what="the incident")
        at_review = waiting_at(monitor_api, reviewed, "ReviewOrder")
        # The deadline decisions are waits too, reached when the shared engine clock was moved by another test.
        at_stock = waiting_at(monitor_api, backordered, "AwaitStock", "DecideLateStock")
        shipment = waiting_at(monitor_api, delivering, "AwaitDelivery", "DecideOverdueDelivery",
                              process="order-shipment")
        at_delivery = root_of(monitor_api, delivering)

        with deployed_variant(stack, with_a_new_step(v2_tag)) as second:
            v2, shipment_v2 = second["order-fulfillment"], second["order-shipment"]
            definition_known(monitor_api, v2)
            done = migrate(v1, v2, write_plans(tmp_path, v1_tag, v2_tag))

    assert done.returncode == 0, done.stdout + done.stderr  # none refused
    out = done.stdout
    assert re.search(rf"order-fulfillment {v1} -> {v2}: migrated \d+ of \d+ running instance", out), out
    assert "mixed versions" not in out

    # On version 2 now, with their history, and they go on from where they waited.
    for moved in (at_incident, at_review, at_stock, at_delivery):
        now = eventually(lambda m=moved: (d := detail(monitor_api, m["key"]))["version"] == v2 and d,
                         what=f"the monitor to show instance {moved['key']} on version {v2}")
        assert [(m["from_version"], m["to_version"]) for m in now["migrations"]] == [(v1, v2)]
        assert now["version_tag"] == v2_tag
    incident = eventually(lambda: next((i for i in detail(monitor_api, at_incident["key"])["incidents"]
                                        if i["state"] == "ACTIVE"), None), what="the migrated incident")
    assert incident["element_id"] == "ReserveStock"
    assert warehouse_api.put(f"/stock/{lacking}", json={"on_hand": 5, "name": "found at last"}).status_code == 201
    assert monitor_api.post(f"/incidents/{incident['key']}/retry").status_code == 202
    answer_review(monitor_api, camunda_api, at_review["key"])
    for order_id, moved in ((failing, at_incident), (reviewed, at_review)):
        wait_for_status(order_api, order_id, "COMPLETED")
        assert NEW_STEP in completed_on(monitor_api, moved["key"], v2)["completed_elements"]

    # The called shipment moved to the one deployed with version 2.
    moved_shipment = eventually(lambda: (d := detail(monitor_api, shipment["key"]))["version"] == shipment_v2 and d,
                                what=f"the shipment to be on the version deployed with {v2}")
    assert [(m["from_version"], m["to_version"]) for m in moved_shipment["migrations"]] == [
        (shipment["version"], shipment_v2)]
    paused_production()
    production_held.release()
    delivery_locks.release()
    go_on_if_a_person_was_asked(monitor_api, camunda_api, at_stock, "DecideLateStock")
    go_on_if_a_person_was_asked(monitor_api, camunda_api, shipment, "DecideOverdueDelivery")
    for order_id, moved in ((backordered, at_stock), (delivering, at_delivery)):
        wait_for_status(order_api, order_id, "COMPLETED", timeout=90)
        ended = completed_on(monitor_api, moved["key"], v2)
        assert NEW_STEP in ended["completed_elements"]
        assert [(m["from_version"], m["to_version"]) for m in ended["migrations"]] == [(v1, v2)]
    completed_on(monitor_api, shipment["key"], shipment_v2)


def test_an_order_at_an_element_the_plan_does_not_map_is_refused_before_the_engine_is_asked_and_completes_on_v1(
        stack, order_api, monitor_api, camunda_api, fresh_sku, tmp_path):
    run = uuid.uuid4().hex[:6]
    v1_tag, v2_tag = f"migration-{run}-1", f"migration-{run}-2"
    with deployed_variant(stack, tagged(v1_tag)) as first:
        v1 = first["order-fulfillment"]
        definition_known(monitor_api, v1)
        reviewed = place(order_api, items=[{"sku": fresh_sku(REVIEWED_UNITS), "quantity": REVIEWED_UNITS}])
        at_review = waiting_at(monitor_api, reviewed, "ReviewOrder")
        with deployed_variant(stack, with_a_new_step(v2_tag)) as second:
            v2 = second["order-fulfillment"]
            definition_known(monitor_api, v2)
            full, partial = tmp_path / "full", tmp_path / "partial"
            full.mkdir(), partial.mkdir()
            dry = migrate(v1, v2, write_plans(full, v1_tag, v2_tag), "--dry-run")
            done = migrate(v1, v2, write_plans(partial, v1_tag, v2_tag, leave_out=("ReviewOrder",)))

    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would migrate" in dry.stdout and "dry run: nothing was sent to the engine" in dry.stdout
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"instance {at_review['key']} (order {reviewed}): element ReviewOrder is not mapped" in done.stdout
    assert detail(monitor_api, at_review["key"])["migrations"] == [], "the dry run and the refusal moved nothing"
    answer_review(monitor_api, camunda_api, at_review["key"])
    wait_for_status(order_api, reviewed, "COMPLETED")
    ended = completed_on(monitor_api, at_review["key"], v1)
    assert ended["migrations"] == [] and NEW_STEP not in ended["completed_elements"]


def test_an_order_of_a_version_with_a_join_past_the_fork_is_refused_with_the_engines_reason_and_completes_there(
        stack, order_api, monitor_api, camunda_api, fresh_sku, paused_production, production_held, tmp_path):
    """What 1.0 orders past the Fork meet: the shipped-now branch's token waits at the Join, and 8.6 refuses."""
    run = uuid.uuid4().hex[:6]
    v1_tag, v2_tag = f"migration-{run}-1", f"migration-{run}-2"
    with deployed_variant(stack, with_the_join_of_1_0(v1_tag)) as first:
        v1 = first["order-fulfillment"]
        definition_known(monitor_api, v1)
        backordered = place(order_api, items=[{"sku": fresh_sku(0), "quantity": 1}])
        production_held(backordered)
        at_stock = waiting_at(monitor_api, backordered, "AwaitStock", "DecideLateStock")
        with deployed_variant(stack, with_a_new_step(v2_tag)) as second:
            v2 = second["order-fulfillment"]
            definition_known(monitor_api, v2)
            done = migrate(v1, v2, write_plans(tmp_path, v1_tag, v2_tag))

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"instance {at_stock['key']} (order {backordered}): {concurrent_command(at_stock['key'])}" in done.stdout
    paused_production()
    production_held.release()
    go_on_if_a_person_was_asked(monitor_api, camunda_api, at_stock, "DecideLateStock")
    wait_for_status(order_api, backordered, "COMPLETED", timeout=90)
    ended = completed_on(monitor_api, at_stock["key"], v1)
    assert ended["migrations"] == [] and "Join" in ended["completed_elements"]
