"""Orders that stopped moving: found, repaired where that is safe, otherwise reported.

An order is stalled when it is not final, waits for nothing that takes time by design (a person's
review, stock, a courier: `domain.waiting_for`), and has had no progress for `stuck_after`. The one repair made
here without a person is re-sending a message of this service's that expired unpublished (its outbox
row outlived the message's time to live, e.g. while the engine was down): the process start, only
while nothing has happened to the order yet, and a cancellation request, whatever the order waits
for. A job that stopped recurring is the process monitor's to repair (services/monitor/repairs.py). Everything else is
reported once per stall on the order's timeline and in the log, and listed by `GET /stuck-orders`
(`fulfil order stuck`), with what the outbox shows and, when nothing waits there, what the process
monitor shows: an open incident, no live process instance (the status disagrees with the process),
or where the process waits.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.engine import Connection

from services.order import db
from services.order.domain import FINAL_STATUSES, OrderStatus
from shared.contracts.order import CANCEL_REQUESTED, ORDER_PLACED
from shared.runtime import outbox
from shared.runtime.outbox import UnitOfWork

log = logging.getLogger(__name__)

STALLED = "stalled"
RESENDABLE = {ORDER_PLACED.name: ORDER_PLACED, CANCEL_REQUESTED.name: CANCEL_REQUESTED}
# Orders taken per query: the loop pages through more, a round at a time.
PAGE = 100


@dataclass(frozen=True)
class Stall:
    order_id: str
    status: str
    idle_seconds: int
    diagnosis: str
    # Where the next page starts after this one: (updated_at, order id).
    cursor: tuple[datetime, str]


@dataclass(frozen=True)
class EngineInstance:
    """One of the order's process instances as the process monitor shows it."""

    process: str
    state: str  # ACTIVE, COMPLETED or TERMINATED
    waiting_at: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()  # "<element>: <message>" of each open one


# The engine's side of an order: its instances, or None when the process monitor could not be asked.
EngineView = Callable[[str], list[EngineInstance] | None]


def diagnose_process(instances: list[EngineInstance] | None, status: str) -> str:
    """What the engine's side says about an order that stalled with nothing waiting in the outbox."""
    if instances is None:
        return "the process monitor did not answer: look there for an incident or a job that stopped recurring"
    if not instances:
        return "the engine has no process instance for it: its start never arrived"
    incidents = [incident for instance in instances for incident in instance.incidents]
    if incidents:
        more = f" (and {len(incidents) - 1} more)" if len(incidents) > 1 else ""
        return f"an incident is open at {incidents[0]}{more}; fix the cause and retry it in the process monitor"
    active = [instance for instance in instances if instance.state == "ACTIVE"]
    if not active:
        ended = ", ".join(sorted({instance.state for instance in instances}))
        return (f"no live process instance: its process ended ({ended}) while the order reads {status}, "
                "so the status disagrees with the process")
    waiting = ", ".join(sorted({element for instance in active for element in instance.waiting_at})) or "nothing"
    return (f"its process waits at {waiting} with no incident; the process monitor starts a job that stopped "
            "recurring again")


def stalled_orders(session: Connection, stuck_after: timedelta, *, include_reported: bool = True,
                   after: tuple[datetime, str] | None = None, limit: int = PAGE) -> list[Stall]:
    """A page of stalled orders, oldest first; `after`: the `cursor` of the last stall of the page before.

    Which orders qualify is decided in SQL, so however many orders wait by design (or were reported already,
    when `include_reported` is false) the page holds only stalled ones.
    """
    rows = db.idle_orders(session, stuck_after, reported_as=None if include_reported else STALLED, after=after,
                          limit=limit)
    return [diagnose(session, order) for order in rows]


def stall_metrics(session: Connection, stuck_after: timedelta) -> list[Metric]:
    """The stalled orders as gauges, read when Prometheus scrapes: any is for a person (`fulfil order stuck`)."""
    count, longest = db.count_idle_orders(session, stuck_after)
    return [GaugeMetricFamily("fulfil_order_stalled_orders", "Open orders not waiting by design with no progress "
                              "for the reconciler's stuck_after.", value=count),
            GaugeMetricFamily("fulfil_order_longest_stall_seconds",
                              "How long the longest-stalled order has had no progress (0 when none).", value=longest)]


def diagnose(session: Connection, order) -> Stall:
    """What this service's outbox says about the order."""
    stall = dict(order_id=order.id, status=order.status, idle_seconds=int(order.idle),
                 cursor=(order.updated_at, order.id))
    for name in RESENDABLE:
        message = outbox.latest_message(session, name, order.id)
        if message is None:
            continue
        if message.expired_at is not None:
            return Stall(**stall, diagnosis=f"the {name} message expired unpublished; the reconciler sends it "
                                            "again while the order can still take it")
        if message.published_at is None:
            return Stall(**stall, diagnosis=f"the {name} message has waited {int(message.age)} s to be published "
                                            f"({message.attempts} attempts; last error: "
                                            f"{(message.last_error or '-')[:120]})")
    return Stall(**stall, diagnosis="")  # nothing waits in this service's outbox: the engine's side will say


def resend_expired(uow: UnitOfWork, page: int = PAGE) -> int:
    """Send again every start and cancellation that expired unpublished while its order can still take it, whatever
    else the order waits for; returns how many went. Each expired row is answered once: under the order's lock it
    must still be the newest row of its message, and the resend's message id is derived from it (`Message.again`),
    so replicas racing for it write one message the engine takes once."""
    sent, after = 0, 0
    while expired := outbox.expired_messages(uow.session, RESENDABLE, after=after, limit=page):
        sent += sum(_resend(uow, message) for message in expired)
        if len(expired) < page:
            break
        after = expired[-1].seq
    return sent


def _takes(order, name: str) -> bool:
    """Whether the order can still take the message `name` again."""
    if order is None or order.status in FINAL_STATUSES:
        return False  # a finished order takes no start or cancellation
    # A start only while nothing has happened: the process ran otherwise, and a second start must never happen.
    return name != ORDER_PLACED.name or (not order.reserved and order.status == OrderStatus.PLACED)


def _resend(uow: UnitOfWork, expired) -> bool:
    # Read first and locked only when it is to be sent: an expired row of a finished order locks nothing.
    if not _takes(db.get_order(uow.session, expired.key), expired.topic):
        return False
    order = db.get_order(uow.session, expired.key, for_update=True)
    newest = outbox.latest_message(uow.session, expired.topic, expired.key)
    if not _takes(order, expired.topic) or newest.seq != expired.seq:
        return False  # it moved, or another replica sent it again, since the scan
    message = RESENDABLE[expired.topic]
    uow.send(message.again(expired.key, expired.payload["variables"], instead_of=str(expired.id)))
    what = f"the {message.name} message expired unpublished; sent it again"
    if message is ORDER_PLACED:
        what = f"{STALLED}, repaired: {what}"  # nothing else happened to the order: it had stalled
    log.warning("order %s: %s", expired.key, what)
    db.add_timeline(uow.session, expired.key, order.status, what)
    return True


def reconcile(uow: UnitOfWork, stuck_after: timedelta, engine_view: EngineView) -> int:
    """One round: expired messages sent again or, when there are none, the first report of one page of stalled
    orders; returns how many orders it acted on (the loop runs the next round at once while there are any, so it
    pages through them: a reported order leaves the candidates).

    The process monitor is asked before any order is locked, so a slow monitor never holds up an order's events.
    """
    sent = resend_expired(uow)
    if sent:
        return sent  # committed, the orders' locks let go; the next round (at once) asks the monitor
    session = uow.session
    acted = 0
    stalls = stalled_orders(session, stuck_after, include_reported=False)
    diagnoses = {s.order_id: s.diagnosis or diagnose_process(engine_view(s.order_id), s.status) for s in stalls}
    for stall in stalls:
        order = db.get_order(session, stall.order_id, for_update=True)
        if order is None or order.status != stall.status:
            continue  # it moved since the scan
        if _reported(session, stall.order_id):
            continue  # another replica reported it since the scan
        what = f"{STALLED}: no progress for {stall.idle_seconds // 60} min; {diagnoses[stall.order_id]}"
        log.warning("order %s %s", stall.order_id, what)
        db.add_timeline(session, stall.order_id, order.status, what)
        acted += 1
    return acted


def _reported(session: Connection, order_id: str) -> bool:
    """Reported as stalled already, and nothing has happened since."""
    return db.get_timeline(session, order_id)[-1].what.startswith(STALLED)
