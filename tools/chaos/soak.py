"""The soak itself: customers place and cancel orders while the killer crashes components one after the other;
after the last restart the orders get a bounded time to finish, then the verdict."""
from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tools.chaos.customers import Ledger, PatientClient, customer, probe
from tools.chaos.faults import Killer, Outcome
from tools.chaos.plan import COMPONENTS, Plan, SoakSkus, kill_schedule, order_shapes
from tools.chaos.verdict import Findings, judge, order_status, outbox_backlog, statuses_now
from tools.invariants import Databases
from tools.options import add_options, read_options
from tools.orders import FINAL, wait_until_orderable
from tools.stack import keycloak, services
from tools.stack.config import StackSettings

PROGRESS_SECONDS = 10.0
SETTLE_POLL_SECONDS = 2.0
EVIDENCE_LINES = 12


@dataclass
class Report:
    run: str
    plan: Plan
    ledger: Ledger
    outcomes: list[Outcome]
    # Seconds from the last restart until every soak order was final; None if they did not get there.
    settled_after: float | None
    findings: Findings

    @property
    def statuses(self) -> Counter:
        return self.findings.statuses

    @property
    def violations(self) -> list:
        return self.findings.violations

    def summary(self) -> str:
        """One line with every figure of the run."""
        def count(final: bool) -> str:
            statuses = sorted((s, n) for s, n in self.statuses.items() if (s in FINAL) == final)
            return f"{sum(n for _, n in statuses)} ({', '.join(f'{s} {n}' for s, n in statuses) or 'none'})"

        kills = Counter(o.kill.component for o in self.outcomes)
        per_component = ", ".join(f"{c} {kills[c]}" for c in COMPONENTS if kills[c])
        longest = max((o.kill.down_seconds for o in self.outcomes), default=0)
        recovered = [o for o in self.outcomes if o.recovered_after is not None]
        slowest = max(recovered, key=lambda o: o.recovered_after, default=None)
        recovery = f"; slowest recovery {slowest.kill.process} {slowest.recovered_after:.0f}s" if slowest else ""
        settled = (f"settled {self.settled_after:.1f}s after the last restart" if self.settled_after is not None
                   else f"NOT settled within {self.plan.settle_timeout:.0f}s after the last restart")
        verdict = ("violations: none" if not self.violations else
                   f"violations {len(self.violations)}: " + ", ".join(f"{v.name} ({v.count})" for v in self.violations))
        return (f"chaos {self.run}: orders placed {self.ledger.placed} (+{len(self.ledger.probes)} probes), "
                f"accepted {len(self.ledger.accepted)}, "
                f"final {count(True)}, not final {count(False)}, cancel requests {self.ledger.cancel_requested}; "
                f"kills {len(self.outcomes)} ({per_component}; longest down {longest:.0f}s{recovery}); {settled}; "
                f"placed to final {_percentiles(self.findings.lead_times)}; client retries {self.ledger.retries}; "
                f"{verdict}")


def _percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    ordered = sorted(seconds)
    p50, p95 = (ordered[min(len(ordered) - 1, int(share * len(ordered)))] for share in (0.5, 0.95))
    return f"p50 {p50:.0f}s, p95 {p95:.0f}s, max {ordered[-1]:.0f}s"


def soak(settings: StackSettings, plan: Plan, say: Callable[[str], None] = print) -> Report:
    """Run the soak on the running stack and judge it; the stack is left running, every component started."""
    run = uuid.uuid4().hex[:8]
    rng = random.Random(plan.seed)
    skus = SoakSkus.for_run(run)
    shapes = order_shapes(plan, skus, rng)
    schedule = kill_schedule(plan, settings.replicas, rng)
    started = time.monotonic()

    def clock() -> float:
        return time.monotonic() - started

    def tell(message: str) -> None:
        say(f"[{clock():5.0f}s] {message}")

    databases = Databases(settings)
    ledger = Ledger()
    order_bases = [f"http://127.0.0.1:{r.port(settings)}" for r in services.replicas(settings, "order")]
    stock_at_start(settings, skus.initial_stock(plan.orders))
    say(f"chaos {run}: {plan.orders} orders at {plan.rate:g}/s over {plan.placing_seconds:.0f}s, "
        f"{len(schedule)} kills ({', '.join(k.process for k in schedule)}), {settings.replicas} replica(s) per "
        f"service, seed {plan.seed}; SKUs {skus.plenty}, {skus.scarce}, {skus.made_to_order}; "
        f"restart output in {settings.logs / 'chaos.log'}")
    # Every soak customer is the realm's first demo customer: the soak is about crashes, not about who orders.
    auth = keycloak.login(settings, keycloak.CUSTOMER_USERS[0])
    probes = Probes(order_bases, plan.recovery_limit, run, skus.plenty, ledger, databases, auth)
    killer = Killer(settings, schedule, plan.placing_seconds, plan.recovery_limit, probes, tell, clock)
    failures: list[BaseException] = []

    def place_orders() -> None:
        try:
            asyncio.run(_customers(order_bases, plan, run, shapes, ledger, auth))
        except BaseException as exc:  # handed to the main thread, which raises it
            failures.append(exc)

    customers = threading.Thread(target=place_orders, name="customers", daemon=True)
    try:
        killer.start()
        customers.start()
        next_progress = PROGRESS_SECONDS
        while customers.is_alive() or killer.thread.is_alive():
            time.sleep(0.5)
            if failures:
                raise failures[0]
            if clock() >= next_progress:
                tell(_progress(databases, run, plan, ledger, killer))
                next_progress += PROGRESS_SECONDS
    finally:
        # Interrupted: no further kills, but what is down comes back up.
        killer.stop.set()
        killer.join()
    last_restart = killer.last_restart_at if killer.last_restart_at is not None else clock()
    tell(f"placing and killing done; the orders get {plan.settle_timeout:.0f}s after the last restart to finish")
    settled_after = wait_until_final(databases, run, len(ledger.accepted), last_restart + plan.settle_timeout, clock,
                            lambda: tell(_progress(databases, run, plan, ledger, killer)))
    if settled_after is not None:
        settled_after -= last_restart
    tell("checking the databases, the engine's records and the dead-letter topics")
    try:
        findings = judge(settings, databases, run, ledger, killer.outcomes, plan.recovery_limit)
    finally:
        databases.dispose()
    return Report(run, plan, ledger, killer.outcomes, settled_after, findings)


class Probes:
    """The probe orders the killer places after each restart (see faults.Probe)."""

    def __init__(self, bases: list[str], patience: float, run: str, sku: str, ledger: Ledger,
                 databases: Databases, auth: httpx.Auth) -> None:
        self.bases, self.patience, self.run, self.sku = bases, patience, run, sku
        self.ledger, self.databases, self.auth = ledger, databases, auth

    def place(self, number: int) -> str | None:
        async def place() -> str | None:
            client = PatientClient(self.bases, self.patience, self.ledger, self.auth)
            try:
                return await probe(client, self.run, number, self.sku)
            finally:
                await client.close()

        return asyncio.run(place())

    def status(self, order_id: str) -> str | None:
        return order_status(self.databases, order_id)

    def stall(self, order_id: str | None) -> str:
        where = "not accepted" if order_id is None else f"{order_id} {self.status(order_id)}"
        return f"new order {where}; {outbox_backlog(self.databases)}"


async def _customers(bases: list[str], plan: Plan, run: str, shapes, ledger: Ledger, auth: httpx.Auth) -> None:
    """One customer every 1/rate seconds, each on its own, so a slow answer holds up nobody else."""
    client = PatientClient(bases, plan.give_up_after, ledger, auth)
    loop = asyncio.get_running_loop()
    began = loop.time()
    tasks = []
    for number, shape in enumerate(shapes):
        await asyncio.sleep(max(0.0, began + number / plan.rate - loop.time()))
        tasks.append(asyncio.create_task(customer(client, run, number, shape)))
    await asyncio.gather(*tasks)
    await client.close()


def stock_at_start(settings: StackSettings, stock: dict[str, int]) -> None:
    """The soak's SKUs with their opening stock, set by an operator through the Warehouse API, and orderable once
    the Order service has heard of them."""
    operator = keycloak.login(settings)
    with httpx.Client(base_url=f"http://127.0.0.1:{settings.warehouse_port}", timeout=10, auth=operator) as warehouse:
        for sku, on_hand in stock.items():
            warehouse.put(f"/stock/{sku}", json={"on_hand": on_hand, "name": "chaos soak item"}).raise_for_status()
    with httpx.Client(base_url=f"http://127.0.0.1:{settings.order_port}", timeout=10, auth=operator) as orders:
        wait_until_orderable(orders, stock)


def wait_until_final(databases: Databases, run: str, accepted: int, deadline: float, clock: Callable[[], float],
            progress: Callable[[], None]) -> float | None:
    """Wait until every soak order is final; the clock reading when they were, or None at the deadline."""
    next_progress = clock() + PROGRESS_SECONDS
    while clock() < deadline:
        try:
            statuses = statuses_now(databases, run)
        except Exception:  # noqa: BLE001 - the database may still be recovering; ask again
            statuses = None
        if statuses is not None and sum(statuses.values()) >= accepted and \
                all(status in FINAL for status in statuses):
            return clock()
        if clock() >= next_progress:
            progress()
            next_progress += PROGRESS_SECONDS
        time.sleep(SETTLE_POLL_SECONDS)
    return None


def _progress(databases: Databases, run: str, plan: Plan, ledger: Ledger, killer: Killer) -> str:
    try:
        statuses = statuses_now(databases, run)
        final = sum(n for s, n in statuses.items() if s in FINAL)
        states = f"final {final}, open {sum(statuses.values()) - final} " \
                 f"({', '.join(f'{s} {n}' for s, n in sorted(statuses.items()) if s not in FINAL) or 'none'})"
    except Exception as exc:  # noqa: BLE001 - progress only; PostgreSQL may be the component that is down
        states = f"order database not answering ({type(exc).__name__})"
    down = f", {killer.down} down" if killer.down else ""
    return (f"placed {ledger.placed}/{plan.orders}, accepted {len(ledger.accepted)}, {states}; "
            f"kills {len(killer.outcomes)}/{len(killer.schedule)}{down}; client retries {ledger.retries}")


def print_report(report: Report, say: Callable[[str], None] = print) -> None:
    for violation in report.violations:
        say(f"VIOLATION {violation.name}: {violation.count}")
        for line in violation.evidence[:EVIDENCE_LINES]:
            say(f"  {line}")
        if violation.count > EVIDENCE_LINES:
            say(f"  ... and {violation.count - EVIDENCE_LINES} more")
    say(report.summary())


def parse(argv: list[str]) -> Plan:
    defaults = Plan()
    parser = argparse.ArgumentParser(prog="python -m tools.stack chaos", description=__doc__)
    add_options(parser, Plan)
    parser.add_argument("--kills", type=int,
                        help=f"default: one per 50 orders, at least one per component ({len(COMPONENTS)})")
    parser.add_argument("--down", default=f"{defaults.shortest_down:g}-{defaults.longest_down:g}",
                        help="seconds a killed component stays down, drawn from MIN-MAX")
    parser.add_argument("--seed", type=int, help="repeat a run's orders and kills (default: a new seed)")
    args = parser.parse_args(argv)
    shortest, _, longest = args.down.partition("-")
    return read_options(args, Plan, kills=args.kills, shortest_down=float(shortest),
                        longest_down=float(longest or shortest),
                        seed=args.seed if args.seed is not None else random.randrange(1_000_000))


def run(settings: StackSettings, plan: Plan) -> int:
    """`make chaos`: exit 0 when the soak found nothing wrong, 1 naming each violation."""
    report = soak(settings, plan)
    print_report(report)
    return 1 if report.violations else 0
