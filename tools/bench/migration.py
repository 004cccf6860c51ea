"""`make bench-migration`: how long moving running orders to a new version takes. Places ORDERS orders that wait
for backordered stock, deploys a version that adds a step, migrates them all with `fulfil process migrate`'s code
(batch by batch through the monitor), prints each batch's time and the total, then lets them finish.

Both versions are bpmn/ as it is, retagged: its fulfilment has no joining parallel gateway (Zeebe 8.6 cannot
migrate an instance with a token waiting at one), so every backordered order can move (docs/changing-the-process.md).
"""
from __future__ import annotations

import argparse
import re
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from services.monitor.domain import element_ids
from tools import bootstrap, process_migration
from tools.orders import SAMPLE_ADDRESS, wait_until_orderable
from tools.stack import keycloak
from tools.stack.config import StackSettings
from tools.stack.errors import StackError

NEW_STEP = "MigrationPassed"
NOT_PLANNED = {"exclusiveGateway", "parallelGateway", "endEvent", "intermediateThrowEvent"}
PROCESSES = ("order-fulfillment", "order-shipment")


def version(tag: str, new_step: bool):
    """bpmn/ tagged `tag`; with `new_step`, a throw event before CompleteOrder."""
    def edit(name: str, xml: str) -> str:
        xml = re.sub(r'<zeebe:versionTag value="[^"]*" />', f'<zeebe:versionTag value="{tag}" />', xml)
        if name != "order-fulfillment.bpmn":
            return xml
        if new_step:
            xml = _once(xml, '<bpmn:sequenceFlow id="Flow_ToComplete" sourceRef="Fulfil" targetRef="CompleteOrder" />',
                        f'<bpmn:sequenceFlow id="Flow_ToComplete" sourceRef="Fulfil" targetRef="{NEW_STEP}" />'
                        f'<bpmn:intermediateThrowEvent id="{NEW_STEP}" />'
                        f'<bpmn:sequenceFlow id="Flow_FromNewStep" sourceRef="{NEW_STEP}" targetRef="CompleteOrder" />')
            xml = _once(xml, "<bpmn:incoming>Flow_ToComplete</bpmn:incoming>",
                        "<bpmn:incoming>Flow_FromNewStep</bpmn:incoming>")
        return xml
    return edit


def _once(xml: str, old: str, new: str) -> str:
    if xml.count(old) != 1:
        raise StackError(f"bpmn/order-fulfillment.bpmn no longer has {old!r} once: update tools/bench/migration.py")
    return xml.replace(old, new)


def deploy(settings: StackSettings, edit) -> dict[str, int]:
    return bootstrap.deploy_edited(settings.zeebe_address, edit)


def write_plans(directory: Path, from_tag: str, to_tag: str) -> list[dict]:
    for process in PROCESSES:
        ids = element_ids((bootstrap.BPMN_DIR / f"{process}.bpmn").read_text(), process)
        lines = [f'["{from_tag}"."{to_tag}"]'] + [f'{e} = "{e}"' for e, kind in ids.items() if kind not in NOT_PLANNED]
        (directory / f"{process}.toml").write_text("\n".join(lines) + "\n")
    return process_migration.read_plans(directory)


def wait_for(what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StackError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100, help="instances per request to the monitor")
    args = parser.parse_args(argv)
    settings = StackSettings()
    operator = keycloak.login(settings)
    # Each customer may place 50 orders a second (shared/runtime/settings.py): the two of the realm take turns.
    customers = [httpx.Client(base_url=f"http://127.0.0.1:{settings.order_port}", timeout=30,
                              auth=keycloak.login(settings, user)) for user in keycloak.CUSTOMER_USERS]
    order_api = customers[0]
    warehouse = httpx.Client(base_url=f"http://127.0.0.1:{settings.warehouse_port}", auth=operator, timeout=30)
    factory = httpx.Client(base_url=f"http://127.0.0.1:{settings.factory_port}", auth=operator, timeout=30)
    monitor = httpx.Client(base_url=f"http://127.0.0.1:{settings.monitor_port}", auth=operator, timeout=60)
    run = uuid.uuid4().hex[:6]
    v1_tag, v2_tag = f"bench-{run}-1", f"bench-{run}-2"
    sku = f"MIG-{run}"
    warehouse.put(f"/stock/{sku}", json={"on_hand": 0, "name": "migration bench item"}).raise_for_status()
    wait_until_orderable(order_api, [sku])
    factory_db = create_engine(settings.database_url("factory"))
    held = factory_db.connect()
    held.begin()
    placed: list[str] = []
    try:
        factory.put("/production-line", json={"running": False}).raise_for_status()
        v1 = deploy(settings, version(v1_tag, new_step=False))["order-fulfillment"]

        def place(number: int) -> None:
            while (answer := customers[number % len(customers)].post("/orders", json={
                    "items": [{"sku": sku, "quantity": 1}], "shipping_address": SAMPLE_ADDRESS})).status_code == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))
            answer.raise_for_status()
            placed.append(answer.json()["id"])

        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(place, range(args.orders)))
        print(f"placed {len(placed)} orders on version {v1} in {time.monotonic() - started:.1f} s")

        def waiting() -> int:
            key = _definition_key(monitor, v1)
            return 0 if key is None else sum(s["active"] for s in monitor.get(f"/definitions/{key}/statistics").json()
                                             if s["element_id"] == "AwaitStock")
        wait_for(f"{args.orders} orders to wait for stock", lambda: waiting() >= args.orders, 60 + args.orders / 5)
        # The line stays still whatever else runs: the production of these orders is locked (the loop skips it).
        locked = held.execute(text("SELECT count(*) FROM (SELECT 1 FROM production_orders WHERE sku = :sku "
                                   "FOR UPDATE) rows"), {"sku": sku}).scalar()
        print(f"{waiting()} orders wait for stock (AwaitStock), {locked} production orders held; placing and "
              f"settling took {time.monotonic() - started:.1f} s")

        v2 = deploy(settings, version(v2_tag, new_step=True))["order-fulfillment"]
        wait_for(f"the monitor to know version {v2}", lambda: _definition_key(monitor, v2) is not None, 60)
        with tempfile.TemporaryDirectory() as directory:
            plans = write_plans(Path(directory), v1_tag, v2_tag)
        started = time.monotonic()
        done = process_migration.run(settings, "order-fulfillment", v1, v2, plans, batch=args.batch)
        total = time.monotonic() - started
        print(process_migration.report(done, "order-fulfillment", v1, v2, dry_run=False))
        moved = len(done.of("migrated"))
        times = ", ".join(f"{s:.2f}" for s in done.batch_seconds)
        print(f"batches of {args.batch}: {times} s")
        print(f"migrated {moved} orders in {total:.1f} s: {moved / total:.0f} orders/s, "
              f"{1000 * total / max(moved, 1):.1f} ms per order")
        seen = time.monotonic()
        key2 = _definition_key(monitor, v2)
        wait_for("the monitor to show them on the new version", lambda: sum(
            s["active"] for s in monitor.get(f"/definitions/{key2}/statistics").json()
            if s["element_id"] == "AwaitStock") >= moved, 120)
        print(f"the monitor showed them on version {v2} {time.monotonic() - seen:.1f} s after the last batch")
    finally:
        bootstrap.deploy_bpmn(settings.zeebe_address)
        held.commit()
        held.close()
        factory_db.dispose()
        factory.put("/production-line", json={"running": True})
        # Let them finish, whatever happened: the stock they wait for arrives at once, each order ships its unit.
        if placed:
            warehouse.post(f"/stock/{sku}/adjustments", json={
                "quantity": len(placed), "reason": "migration bench: the backordered units arrive"}).raise_for_status()
    finished = time.monotonic()

    def open_orders() -> int:
        return monitor.get("/instances", params={"bpmn_process_id": "order-fulfillment", "state": "ACTIVE",
                                                 "limit": 1, "definition_key": _definition_key(monitor, v2)}
                           ).json()["total"]
    wait_for("the orders to complete", lambda: open_orders() == 0, 600)
    print(f"all completed {time.monotonic() - finished:.1f} s after their stock arrived")


def _definition_key(monitor: httpx.Client, version: int) -> int | None:
    return next((d["key"] for d in monitor.get("/definitions").json()
                 if d["bpmn_process_id"] == "order-fulfillment" and d["version"] == version), None)


if __name__ == "__main__":
    main()
