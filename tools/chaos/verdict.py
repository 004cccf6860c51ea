"""After a soak: what the databases, the engine's records and the dead letters say about it, as named violations."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import bindparam, text

from shared.contracts.process import FULFILMENT_PROCESS
from shared.contracts.registry import PUBLISHERS
from tools import dead_letters, invariants
from tools.chaos.customers import Ledger
from tools.chaos.faults import Outcome, expected_processes, is_running
from tools.invariants import Connect
from tools.orders import FINAL
from tools.stack import services
from tools.stack.config import StackSettings
from tools.stack.records import ProcessView, RecordLog

# Events still on their way from the factory to the warehouse when the orders settled.
STOCK_CHECK_PATIENCE = 15.0


@dataclass
class Violation:
    name: str
    evidence: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.evidence)


@dataclass
class SoakOrder:
    id: str
    status: str
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    final_at: datetime | None  # when its timeline first shows a final status


def soak_orders(connect: Connect, run: str) -> list[SoakOrder]:
    """Every order the soak placed (its probes too), found by their Idempotency-Key, accepted or not."""
    with connect("order") as db:
        return [SoakOrder(*row) for row in db.execute(text(
            "SELECT o.id, o.status, o.idempotency_key, o.created_at, o.updated_at, "
            "(SELECT min(t.at) FROM order_timeline t WHERE t.order_id = o.id AND t.status IN :final) "
            "FROM orders o WHERE o.idempotency_key LIKE :keys").bindparams(bindparam("final", expanding=True)),
            {"keys": f"chaos-{run}-%", "final": sorted(FINAL)})]


@dataclass
class Findings:
    statuses: Counter
    # Seconds from placing to the final status, of each order that got there.
    lead_times: list[float]
    violations: list[Violation]


def judge(settings: StackSettings, connect: Connect, run: str, ledger: Ledger, outcomes: list[Outcome],
          recovery_limit: float) -> Findings:
    """The soak orders' statuses and lead times, and every violation found (none: the stack came through)."""
    orders = soak_orders(connect, run)
    statuses = Counter(o.status for o in orders)
    lead_times = [(o.final_at - o.created_at).total_seconds() for o in orders if o.final_at is not None]
    with RecordLog(settings.kafka_bootstrap) as records:
        engine = records.processes_by_variable("orderId", FULFILMENT_PROCESS)
    found: list[Violation] = []

    def violation(name: str, evidence: list[str]) -> None:
        if evidence:
            found.append(Violation(name, evidence))

    known = {o.id for o in orders}
    violation("accepted orders lost", [f"{order_id} (Idempotency-Key {key})"
                                       for order_id, key in (ledger.accepted | ledger.probes).items()
                                       if order_id not in known])
    stuck = [o for o in orders if o.status not in FINAL]
    violation("orders not final", [_why_not_final(connect, o, engine.get(o.id)) for o in stuck])
    violation("process instances twice for one order",
              [f"{o.id}: instances {engine[o.id].instances}" for o in orders
               if o.id in engine and len(engine[o.id].instances) > 1])
    violation("open incidents", [f"{o.id}: incident {i.key} at {i.element_id} ({i.error_type}): {i.message[:200]}"
                                 for o in orders for i in (engine[o.id].incidents if o.id in engine else [])])
    violation("shipments packed twice",
              [f"order {o}, shipment {n}" for o, n in invariants.duplicate_shipments(connect)])
    violation("deliveries twice for one shipment",
              [f"shipment {s}" for s in invariants.duplicate_deliveries(connect)])
    violation("more picked than reserved", [f"order {o}, {sku}" for o, sku in invariants.over_picked(connect)])
    violation("stock not conserved", [f"{sku}: {entered} units entered, {counted} counted (free + reserved + shipped)"
                                      for sku, (entered, counted) in _stock_discrepancies(connect).items()])
    violation("stock held for ended orders",
              [f"order {o}, {sku}: {what}" for o, sku, what in invariants.held_for_ended_orders(connect)])
    violation("requests refused", [f"{about}: {status} {detail}" for about, status, detail in ledger.refused])
    violation("orders the client gave up placing (no answer)", ledger.gave_up_placing)
    violation("cancellations the client gave up (no answer)", ledger.gave_up_cancelling)
    violation("dead letters about soak orders", _dead_letters(settings, known))
    violation("components that went down without being killed",
              [f"{', '.join(o.also_down)} (found before restarting {o.kill.process})" for o in outcomes if o.also_down])
    violation("no new order went all the way after a restart",
              [f"{o.kill.process}: none within {recovery_limit:.0f}s after it came back"
               + (f" (stuck since {o.stuck_since} came back)" if o.stuck_since else "") + f"; {o.stall}"
               for o in outcomes if o.recovered_after is None and not o.failure])
    violation("kills or restarts that failed", [f"{o.kill.process}: {o.failure}" for o in outcomes if o.failure])
    violation("not running after the soak", [p for p in expected_processes(settings) if not is_running(settings, p)]
              + [f"{r.name} (no answer on /health)" for r in services.replicas(settings)
                 if is_running(settings, r.name) and not services.healthy(settings, r)])
    return Findings(statuses, lead_times, found)


def _why_not_final(connect: Connect, order: SoakOrder, process: ProcessView | None) -> str:
    """The evidence an operator would collect: status, how long unchanged, the engine's view, the outbox."""
    now = datetime.now(timezone.utc)
    line = (f"{order.id} {order.status} (placed {(now - order.created_at).total_seconds():.0f}s ago, "
            f"unchanged for {(now - order.updated_at).total_seconds():.0f}s)")
    if process is None:
        line += "; the engine has no process instance for it"
    else:
        running = f"running {process.running}" if process.running else "none running"
        line += f"; instances {process.instances} ({running}), waiting at {process.waiting_at or 'nothing'}"
        line += "".join(f"; incident: {i.message[:160]}" for i in process.incidents)
    for service, topic, attempts, error in _unpublished(connect, order.id):
        line += f"; unpublished in {service}'s outbox: {topic} after {attempts} attempt(s) {error[:160]}"
    return line


def _unpublished(connect: Connect, key: str) -> list[tuple[str, str, int, str]]:
    found = []
    for service in (s.name for s in PUBLISHERS):
        with connect(service) as db:
            found += [(service, r.topic, r.attempts, r.last_error or "") for r in db.execute(text(
                "SELECT topic, attempts, last_error FROM outbox WHERE published_at IS NULL AND key = :key "
                "ORDER BY created_at"), {"key": key})]
    return found


def _stock_discrepancies(connect: Connect) -> dict[str, list[int]]:
    """Production is announced before the warehouse books it: give the last events a moment."""
    deadline = time.monotonic() + STOCK_CHECK_PATIENCE
    while (broken := invariants.stock_discrepancies(connect)) and time.monotonic() < deadline:
        time.sleep(1)
    return broken


def _dead_letters(settings: StackSettings, order_ids: set[str]) -> list[str]:
    return [f"{letter.id} {letter.event_type} of {letter.key.decode()}: {letter.reason[:200]}"
            for letter in dead_letters.read(settings.kafka_bootstrap)
            if letter.key is not None and letter.key.decode(errors="replace") in order_ids]


def order_status(connect: Connect, order_id: str) -> str | None:
    with connect("order") as db:
        return db.execute(text("SELECT status FROM orders WHERE id = :id"), {"id": order_id}).scalar()


def outbox_backlog(connect: Connect) -> str:
    """Per service, the rows its outbox has not published, and the last error of the most tried one."""
    parts = []
    for service in (s.name for s in PUBLISHERS):
        with connect(service) as db:
            waiting, attempts, error = db.execute(text(
                "SELECT count(*), max(attempts), "
                "(SELECT last_error FROM outbox WHERE published_at IS NULL ORDER BY attempts DESC LIMIT 1) "
                "FROM outbox WHERE published_at IS NULL")).one()
        if waiting:
            parts.append(f"{service} {waiting} (tried up to {attempts} times, last error: {(error or '-')[:120]})")
    return "unpublished outbox rows: " + ("; ".join(parts) if parts else "none")


def statuses_now(connect: Connect, run: str) -> Counter:
    """The soak orders by status, for progress lines; cheap enough to ask every few seconds."""
    with connect("order") as db:
        return Counter(dict(db.execute(text(
            "SELECT status, count(*) FROM orders WHERE idempotency_key LIKE :keys GROUP BY status"),
            {"keys": f"chaos-{run}-%"}).all()))
