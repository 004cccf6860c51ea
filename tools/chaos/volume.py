"""`make soak`: the self-healing at volume. Thousands of orders, a large share of them waiting for stock by design
for longer than the reconciler's stall threshold, and a few made stuck on purpose: every stuck one must be
reported or healed within a bounded time, and no waiting one reported.

The waits are real: the factory's line is stopped for the run, so orders for a SKU with no stock wait on their
backorder. The stuck orders are made as the faults that strand them in production would:
- an expired start: orders placed while the engine is down, their start message older than its time to live
  when the engine is back (the outbox rows are aged, as a long outage would have), so the relay marks them
  expired and only the reconciler's resend starts them: they are healed when they complete;
- a process ended behind the order's back: orders whose instance an operator cancelled in the engine while the
  Warehouse was down (so none had moved yet): they must be reported as stalled, then are aborted.
Every waiting order is aged by hours first, older than any stuck one, which is what blinded the reconciler
when it took the oldest 100 open orders and filtered them afterwards.

At the end the waiting orders are cancelled by their customers, the aborted and cancelled orders are checked
for their stock, and the chaos soak's verdict is applied to every order of the run.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text

from tools.chaos.customers import Ledger, PatientClient, customer
from tools.chaos.faults import kill, restart
from tools.chaos.plan import OrderShape
from tools.chaos.soak import stock_at_start, wait_until_final
from tools.chaos.verdict import Findings, judge
from tools.invariants import Databases
from tools.options import add_options, option, read_options
from tools.orders import FINAL
from tools.stack import keycloak, services
from tools.stack.config import StackSettings

EVIDENCE_LINES = 5
POLL_SECONDS = 2.0
PROGRESS_SECONDS = 10.0


@dataclass(frozen=True)
class VolumePlan:
    orders: int = option(3000, "orders placed")
    rate: float = option(8.0, "orders placed per second")
    waiting_share: float = option(0.4, "share of the orders that wait for stock the stopped factory does not make")
    expired_starts: int = option(5, "orders made stuck by a start message that expired while the engine was down")
    ended_behind_its_back: int = option(5, "orders made stuck by an instance cancelled in the engine",
                                        flag="--ended")
    within: float = option(300.0, "seconds within which every stuck order must be reported or healed")
    settle_timeout: float = option(900.0, "seconds for every order to be final once the waiting ones are cancelled",
                                   flag="--settle")
    seed: int = 0


@dataclass
class Stuck:
    kind: str  # "expired start" or "ended behind its back"
    order_id: str
    made_at: float  # the soak's clock when it was made stuck
    reported_after: float | None = None  # its first `stalled…` timeline entry
    final_after: float | None = None


@dataclass
class VolumeReport:
    run: str
    plan: VolumePlan
    replicas: int
    ledger: Ledger
    waiting: list[str]
    stuck: list[Stuck]
    waiting_reported: list[str]
    missing_from_stuck_list: list[str]
    # The chaos soak's verdict on every order of the run, once they are final.
    findings: Findings | None = None
    problems: list[str] = field(default_factory=list)

    def _noticed_by_kind(self) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for stuck in self.stuck:
            if (noticed := _noticed_after(stuck)) is not None:
                found.setdefault(stuck.kind, []).append(noticed)
        return found

    def summary(self) -> str:
        def seconds(values: list[float]) -> str:
            return (f"median {statistics.median(values):.0f}s, max {max(values):.0f}s" if values else "-")

        noticed = [s.reported_after for s in self.stuck if s.reported_after is not None] + \
                  [s.final_after for s in self.stuck if s.reported_after is None and s.final_after is not None]
        healed = [s.final_after for s in self.stuck if s.kind == EXPIRED and s.final_after is not None]
        by_kind = "; ".join(f"{PLURAL[kind]} {seconds(times)}" for kind, times in self._noticed_by_kind().items())
        late = [s for s in self.stuck if _noticed_after(s) is None or _noticed_after(s) > self.plan.within]
        return (f"volume soak {self.run} ({self.replicas} replica(s) per service): orders placed {self.ledger.placed}, "
                f"accepted {len(self.ledger.accepted)}, waiting by design {len(self.waiting)} (none may be reported: "
                f"{len(self.waiting_reported)} were); stuck made {len(self.stuck)} "
                f"({sum(s.kind == EXPIRED for s in self.stuck)} expired starts, "
                f"{sum(s.kind == ENDED for s in self.stuck)} ended behind their back); reported or healed "
                f"{len(self.stuck) - len(late)} within {self.plan.within:.0f}s ({seconds(noticed)} after being made "
                f"stuck; {by_kind})"
                f"; expired starts completed {len(healed)} ({seconds(healed)}); missing from /stuck-orders "
                f"{len(self.missing_from_stuck_list)}; problems {len(self.problems)}")


EXPIRED, ENDED = "expired start", "ended behind its back"
PLURAL = {EXPIRED: "expired starts", ENDED: "ended behind their back"}


def _noticed_after(stuck: Stuck) -> float | None:
    times = [t for t in (stuck.reported_after, stuck.final_after) if t is not None]
    return min(times) if times else None


def shapes(plan: VolumePlan, plenty: str, never: str, rng: random.Random) -> list[OrderShape]:
    """Orders that go all the way, and orders that wait, all or nothing, for a SKU nobody makes during the run."""
    return [OrderShape([(never, 1)], accepts_partial=False, refused_by_courier=False, cancel_after=None)
            if rng.random() < plan.waiting_share else
            OrderShape([(plenty, rng.randint(1, 2))], accepts_partial=True, refused_by_courier=False, cancel_after=None)
            for _ in range(plan.orders)]


class Soak:
    def __init__(self, settings: StackSettings, plan: VolumePlan, say: Callable[[str], None]) -> None:
        self.settings, self.plan, self.say = settings, plan, say
        self.run = uuid.uuid4().hex[:8]
        self.plenty, self.never = (f"SOAK-{self.run}-{kind}" for kind in ("PLENTY", "WAIT"))
        self.started = time.monotonic()
        self.databases = Databases(settings)
        self.ledger = Ledger()
        self.customer_auth = keycloak.login(settings, keycloak.CUSTOMER_USERS[0])
        self.operator_auth = keycloak.login(settings)
        self.order_bases = [f"http://127.0.0.1:{r.port(settings)}" for r in services.replicas(settings, "order")]

    def clock(self) -> float:
        return time.monotonic() - self.started

    def tell(self, message: str) -> None:
        self.say(f"[{self.clock():5.0f}s] {message}")

    # --- the phases -------------------------------------------------------------------------------------------

    def __call__(self) -> VolumeReport:
        plan, rng = self.plan, random.Random(self.plan.seed)
        self.say(f"volume soak {self.run}: {plan.orders} orders at {plan.rate:g}/s, about "
                 f"{plan.waiting_share:.0%} waiting for stock; {plan.expired_starts} + {plan.ended_behind_its_back} "
                 f"made stuck; {self.settings.replicas} replica(s) per service; seed {plan.seed}")
        self._production_line(running=False)
        try:
            stock_at_start(self.settings, {self.plenty: 3 * plan.orders + 100, self.never: 0})
            self._place(shapes(plan, self.plenty, self.never, rng), "the orders")
            waiting = self._until_placed_orders_rest()
            self._age_waiting(waiting)
            stuck = self._expired_starts() + self._ended_behind_their_back()
            self._watch(stuck)
            waiting_reported = self._reported(waiting)
            missing = self._missing_from_stuck_list([s for s in stuck if s.kind == ENDED])
            report = VolumeReport(self.run, plan, self.settings.replicas, self.ledger, waiting, stuck,
                                  waiting_reported, missing)
            self._finish(report)
            return report
        finally:
            self._production_line(running=True)
            self.databases.dispose()

    def _place(self, order_shapes: list[OrderShape], what: str) -> list[str]:
        """Customers place the orders at the plan's rate; returns the ids of those accepted."""
        before = set(self.ledger.accepted)
        first = self.ledger.placed

        async def customers() -> None:
            client = PatientClient(self.order_bases, 300, self.ledger, self.customer_auth)
            loop = asyncio.get_running_loop()
            began, tasks, next_progress = loop.time(), [], PROGRESS_SECONDS
            for number, shape in enumerate(order_shapes):
                await asyncio.sleep(max(0.0, began + number / self.plan.rate - loop.time()))
                tasks.append(asyncio.create_task(customer(client, self.run, first + number, shape)))
                if loop.time() - began >= next_progress:
                    self.tell(f"placing {what}: {number + 1}/{len(order_shapes)}, accepted "
                              f"{len(self.ledger.accepted) - len(before)}")
                    next_progress += PROGRESS_SECONDS
            await asyncio.gather(*tasks)
            await client.close()

        asyncio.run(customers())
        return [order_id for order_id in self.ledger.accepted if order_id not in before]

    def _until_placed_orders_rest(self) -> list[str]:
        """Every order either final or waiting for its stock; returns the waiting ones."""
        while True:
            counts = self._statuses()
            resting = counts.get("AWAITING_STOCK", 0) + sum(n for s, n in counts.items() if s in FINAL)
            if resting >= len(self.ledger.accepted):
                break
            self.tell(f"waiting for the orders to finish or wait for stock: {resting}/{len(self.ledger.accepted)} "
                      f"({', '.join(f'{s} {n}' for s, n in sorted(counts.items()))})")
            time.sleep(PROGRESS_SECONDS)
        with self.databases("order") as db:
            waiting = list(db.execute(text("SELECT id FROM orders WHERE idempotency_key LIKE :keys "
                                           "AND status = 'AWAITING_STOCK'"), {"keys": self._keys()}).scalars())
        self.tell(f"{len(waiting)} orders wait for stock, {len(self.ledger.accepted) - len(waiting)} are final")
        return waiting

    def _age_waiting(self, waiting: list[str]) -> None:
        """Hours older than any stuck order: the oldest open orders are all waiting ones."""
        with self.databases("order") as db:
            db.execute(text("UPDATE orders SET updated_at = updated_at - interval '3 hours' WHERE id = ANY(:ids)"),
                       {"ids": waiting})
            db.commit()
        self.tell(f"aged the {len(waiting)} waiting orders by 3 hours (idle far past the stall threshold)")

    def _expired_starts(self) -> list[Stuck]:
        count = self.plan.expired_starts
        if not count:
            return []
        self.tell(f"stopping Camunda, placing {count} orders, ageing their start messages past their time to live")
        kill(self.settings, "camunda")
        try:
            placed = self._place(self._plain(count), "orders while the engine is down")
            with self.databases("order") as db:
                db.execute(text("UPDATE outbox SET created_at = created_at - interval '2 hours' "
                                "WHERE key = ANY(:ids) AND destination = 'zeebe'"), {"ids": placed})
                db.execute(text("UPDATE orders SET updated_at = updated_at - interval '2 hours' WHERE id = ANY(:ids)"),
                           {"ids": placed})
                db.commit()
            made_at = self.clock()
        finally:
            self._restart("Camunda")
        return [Stuck(EXPIRED, order_id, made_at) for order_id in placed]

    def _ended_behind_their_back(self) -> list[Stuck]:
        count = self.plan.ended_behind_its_back
        if not count:
            return []
        self.tell(f"stopping the Warehouse, placing {count} orders, cancelling their instances in the engine")
        for replica in services.replicas(self.settings, "warehouse"):
            kill(self.settings, replica.name)
        try:
            placed = self._place(self._plain(count), "orders while the Warehouse is down")
            with httpx.Client(base_url=f"http://127.0.0.1:{self.settings.monitor_port}", timeout=10,
                              auth=self.operator_auth) as monitor, \
                    httpx.Client(base_url=f"http://localhost:{self.settings.camunda_http_port}", timeout=10) as engine:
                for order_id in placed:
                    key = self._root_instance(monitor, order_id)
                    engine.post(f"/v2/process-instances/{key}/cancellation", json={}).raise_for_status()
        finally:
            self._restart("the Warehouse")
        with self.databases("order") as db:
            db.execute(text("UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = ANY(:ids)"),
                       {"ids": placed})
            db.commit()
        made_at = self.clock()
        return [Stuck(ENDED, order_id, made_at) for order_id in placed]

    def _watch(self, stuck: list[Stuck]) -> None:
        """Until every stuck order is reported or healed (and the healed ones complete), or the time is up."""
        deadline = max(s.made_at for s in stuck) + self.plan.within if stuck else self.clock()
        next_progress = self.clock() + PROGRESS_SECONDS
        while True:
            with self.databases("order") as db:
                rows = db.execute(text(
                    "SELECT o.id, o.status, bool_or(t.what LIKE 'stalled%') AS reported FROM orders o "
                    "JOIN order_timeline t ON t.order_id = o.id WHERE o.id = ANY(:ids) GROUP BY o.id, o.status"),
                    {"ids": [s.order_id for s in stuck]}).all()
            now, found = self.clock(), {r.id: r for r in rows}
            for s in stuck:
                row = found.get(s.order_id)
                if row is not None and row.reported and s.reported_after is None:
                    s.reported_after = now - s.made_at
                if row is not None and row.status in FINAL and s.final_after is None:
                    s.final_after = now - s.made_at
            done = all(_noticed_after(s) is not None and (s.kind != EXPIRED or s.final_after is not None)
                       for s in stuck)
            if done or now > deadline:
                return
            if now >= next_progress:
                noticed = sum(_noticed_after(s) is not None for s in stuck)
                self.tell(f"stuck orders reported or healed: {noticed}/{len(stuck)}")
                next_progress += PROGRESS_SECONDS
            time.sleep(POLL_SECONDS)

    def _reported(self, order_ids: list[str]) -> list[str]:
        with self.databases("order") as db:
            return list(db.execute(text("SELECT DISTINCT order_id FROM order_timeline WHERE order_id = ANY(:ids) "
                                        "AND what LIKE 'stalled%'"), {"ids": order_ids}).scalars())

    def _missing_from_stuck_list(self, stuck: list[Stuck]) -> list[str]:
        """The operator's list, paged to its end, names every order reported as stalled."""
        listed, after = set(), None
        with httpx.Client(base_url=self.order_bases[0], timeout=60, auth=self.operator_auth) as order_api:
            while True:
                page = order_api.get("/stuck-orders", params={"limit": 100, **({"after": after} if after else {})})
                page.raise_for_status()
                listed |= {s["order_id"] for s in page.json()}
                if len(page.json()) < 100:
                    break
                after = page.json()[-1]["order_id"]
        return [s.order_id for s in stuck if s.order_id not in listed]

    def _finish(self, report: VolumeReport) -> None:
        """Customers cancel the waiting orders, an operator aborts the stranded ones; then the chaos verdict."""
        self.tell(f"aborting {sum(s.kind == ENDED for s in report.stuck)} stranded orders, cancelling "
                  f"{len(report.waiting)} waiting ones")
        with httpx.Client(base_url=self.order_bases[0], timeout=30, auth=self.operator_auth) as order_api:
            for s in report.stuck:
                if s.kind == ENDED:
                    answer = order_api.post(f"/orders/{s.order_id}/abort", json={"reason": "volume soak: stranded"})
                    if answer.status_code not in (200, 202):
                        report.problems.append(f"abort of {s.order_id}: {answer.status_code} {answer.text[:200]}")
        asyncio.run(self._cancel(report.waiting))
        settled = wait_until_final(self.databases, self.run, len(self.ledger.accepted),
                                   self.clock() + self.plan.settle_timeout, self.clock,
                                   lambda: self.tell(f"settling: {dict(self._statuses())}"))
        if settled is None:
            report.problems.append(f"not every order was final {self.plan.settle_timeout:.0f}s after the cancellations")
        self.tell("checking the databases, the engine's records and the dead-letter topics")
        report.findings = judge(self.settings, self.databases, self.run, self.ledger, [], 0)

    async def _cancel(self, order_ids: list[str]) -> None:
        client = PatientClient(self.order_bases, 300, self.ledger, self.customer_auth)
        loop = asyncio.get_running_loop()
        began = loop.time()

        async def cancel(number: int, order_id: str) -> None:
            await asyncio.sleep(max(0.0, began + number / self.plan.rate - loop.time()))
            answer = await client.send("POST", f"/orders/{order_id}/cancel", first_base=number)
            if answer is None or answer.status_code != 202:
                self.ledger.refused.append((order_id, answer.status_code if answer else 0, "cancel"))

        await asyncio.gather(*(cancel(n, order_id) for n, order_id in enumerate(order_ids)))
        await client.close()

    # --- small steps ------------------------------------------------------------------------------------------

    def _plain(self, count: int) -> list[OrderShape]:
        return [OrderShape([(self.plenty, 1)], accepts_partial=True, refused_by_courier=False, cancel_after=None)
                for _ in range(count)]

    def _keys(self) -> str:
        return f"chaos-{self.run}-%"

    def _statuses(self) -> dict[str, int]:
        with self.databases("order") as db:
            return dict(db.execute(text("SELECT status, count(*) FROM orders WHERE idempotency_key LIKE :keys "
                                        "GROUP BY status"), {"keys": self._keys()}).all())

    def _production_line(self, *, running: bool) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.settings.factory_port}", timeout=10,
                          auth=keycloak.login(self.settings)) as factory:
            factory.put("/production-line", json={"running": running}).raise_for_status()
        self.tell(f"the factory's production line {'runs' if running else 'is stopped'}")

    def _restart(self, what: str) -> None:
        began = self.clock()
        restart(self.settings, self.settings.logs / "soak.log")
        self.tell(f"{what} back after {self.clock() - began:.0f}s")

    def _root_instance(self, monitor: httpx.Client, order_id: str, patience: float = 120) -> int:
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            found = [i for i in monitor.get("/instances", params={"order_id": order_id}).json()["items"]
                     if i["bpmn_process_id"] == "order-fulfillment" and i["state"] == "ACTIVE"]
            if found:
                return found[0]["key"]
            time.sleep(1)
        raise RuntimeError(f"the process monitor showed no live instance of order {order_id} within {patience:.0f}s")


def verdict(report: VolumeReport) -> list[str]:
    """What went wrong; empty when the soak passed."""
    wrong = list(report.problems)
    for s in report.stuck:
        noticed = _noticed_after(s)
        if noticed is None or noticed > report.plan.within:
            wrong.append(f"{s.kind} {s.order_id}: neither reported nor healed within {report.plan.within:.0f}s")
        if s.kind == EXPIRED and s.final_after is None:
            wrong.append(f"expired start {s.order_id}: not completed after its resend")
    wrong += [f"waiting order {o} reported as stalled" for o in report.waiting_reported]
    wrong += [f"stalled order {o} missing from GET /stuck-orders" for o in report.missing_from_stuck_list]
    if report.findings is not None:
        wrong += [f"{v.name} ({v.count}): {'; '.join(v.evidence[:EVIDENCE_LINES])}" for v in report.findings.violations]
    return wrong


def parse(argv: list[str]) -> VolumePlan:
    parser = argparse.ArgumentParser(prog="python -m tools.stack soak", description=__doc__.split("\n\n")[0])
    add_options(parser, VolumePlan)
    parser.add_argument("--seed", type=int, help="repeat a run's orders (default: a new seed)")
    args = parser.parse_args(argv)
    return read_options(args, VolumePlan, seed=args.seed if args.seed is not None else random.randrange(1_000_000))


def run(settings: StackSettings, plan: VolumePlan) -> int:
    """`make soak`: exit 0 when every stuck order was reported or healed in time and no waiting one was reported."""
    report = Soak(settings, plan, print)()
    wrong = verdict(report)
    for line in wrong:
        print(f"VIOLATION {line}")
    print(report.summary() + ("; violations: none" if not wrong else f"; violations {len(wrong)}"))
    return 1 if wrong else 0
