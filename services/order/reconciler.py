"""Orders that stopped moving: found, repaired where that is safe, otherwise reported.

An order is stalled when it is not final, waits for nothing that takes time by design (stock, a
courier: `domain.waiting_for`), and has had no progress for `stuck_after`. The one repair made
here without a person is re-sending a message of this service's that expired unpublished (its outbox
row outlived the message's time to live, e.g. while the engine was down): the process start,
only while nothing has happened to the order yet, and a cancellation request. A job that stopped
recurring is the process monitor's to repair (services/monitor/repairs.py). Everything else is
reported once per stall on the order's timeline and in the log, and listed by `GET /stuck-orders`
(`fulfil order stuck`), with what the outbox shows and, when nothing waits there, what the process
monitor shows: an open incident, no live process instance (the status disagrees with the process),
or where the process waits.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from contracts.order import CANCEL_REQUESTED, ORDER_PLACED
from runtime.outbox import add_zeebe_message
from runtime.tables import outbox
from services.order import db
from services.order.domain import FINAL_STATUSES, OrderStatus, waiting_for

log = logging.getLogger(__name__)

STALLED = "stalled"
RESENDABLE = {ORDER_PLACED.name: ORDER_PLACED, CANCEL_REQUESTED.name: CANCEL_REQUESTED}


@dataclass(frozen=True)
class Stall:
    order_id: str
    status: str
    idle_seconds: int
    diagnosis: str
    # The message to send again, when that is the repair.
    resend: str | None = None


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


def stalled_orders(session: Connection, stuck_after: timedelta, limit: int = 100) -> list[Stall]:
    idle = func.extract("epoch", func.now() - db.orders.c.updated_at)
    rows = session.execute(
        select(db.orders.c.id, db.orders.c.status, db.orders.c.reserved, db.orders.c.backorder_open,
               idle.label("idle"))
        .where(db.orders.c.status.not_in([s.value for s in FINAL_STATUSES]),
               db.orders.c.updated_at < func.now() - stuck_after)
        .order_by(db.orders.c.updated_at).limit(limit)
    ).all()
    stalls = []
    for order in rows:
        if waiting_for(order.backorder_open, [s.stage for s in db.get_shipments(session, order.id).values()]):
            continue
        stalls.append(diagnose(session, order))
    return stalls


def diagnose(session: Connection, order) -> Stall:
    """What this service's outbox says about the order, and the repair that is safe, if any."""
    messages = session.execute(
        select(outbox.c.topic, outbox.c.seq, outbox.c.published_at, outbox.c.expired_at, outbox.c.attempts,
               outbox.c.last_error, func.extract("epoch", func.now() - outbox.c.created_at).label("age"))
        .where(outbox.c.key == order.id, outbox.c.destination == "zeebe").order_by(outbox.c.seq)
    ).all()
    latest = {m.topic: m for m in messages}  # the last row of each message name
    stall = dict(order_id=order.id, status=order.status, idle_seconds=int(order.idle))
    for name, message in latest.items():
        if message.expired_at is not None and name in RESENDABLE:
            if name == ORDER_PLACED.name and (order.reserved or order.status != OrderStatus.PLACED):
                continue  # the process ran: a second start must never happen
            return Stall(**stall, diagnosis=f"the {name} message expired unpublished", resend=name)
    waiting = [m for m in latest.values() if m.published_at is None and m.expired_at is None]
    if waiting:
        m = waiting[0]
        return Stall(**stall, diagnosis=f"the {m.topic} message has waited {int(m.age)} s to be published "
                                        f"({m.attempts} attempts; last error: {(m.last_error or '-')[:120]})")
    return Stall(**stall, diagnosis="")  # nothing waits in this service's outbox: the engine's side will say


def resend(session: Connection, order_id: str, name: str) -> None:
    """The expired message again, under a new message id: the engine never saw the first one."""
    expired = session.execute(
        select(outbox.c.payload).where(outbox.c.key == order_id, outbox.c.topic == name)
        .order_by(outbox.c.seq.desc()).limit(1)
    ).scalar_one()
    message = RESENDABLE[name]
    add_zeebe_message(session, name=name, correlation_key=order_id, message_id=f"{name}:{order_id}:{uuid.uuid4()}",
                      variables=expired["variables"], ttl_ms=message.ttl_ms)


def reconcile(session: Connection, stuck_after: timedelta, engine_view: EngineView) -> int:
    """One round: repairs and first reports of stalled orders; returns how many it acted on.

    The process monitor is asked before any order is locked, so a slow monitor never holds up an order's events.
    """
    stalls = [s for s in stalled_orders(session, stuck_after) if s.resend or not _reported(session, s.order_id)]
    diagnoses = {s.order_id: s.diagnosis or diagnose_process(engine_view(s.order_id), s.status)
                 for s in stalls if not s.resend}
    acted = 0
    for stall in stalls:
        order = db.get_order(session, stall.order_id, for_update=True)
        if order is None or order.status != stall.status:
            continue  # it moved since the scan
        if stall.resend:
            resend(session, stall.order_id, stall.resend)
            what = f"{STALLED}, repaired: {stall.diagnosis}; sent it again"
        elif _reported(session, stall.order_id):
            continue  # another replica reported it since the scan
        else:
            what = f"{STALLED}: no progress for {stall.idle_seconds // 60} min; {diagnoses[stall.order_id]}"
        log.warning("order %s %s", stall.order_id, what)
        db.add_timeline(session, stall.order_id, order.status, what)
        acted += 1
    return acted


def _reported(session: Connection, order_id: str) -> bool:
    """Reported as stalled already, and nothing has happened since."""
    return db.get_timeline(session, order_id)[-1].what.startswith(STALLED)
