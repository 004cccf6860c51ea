"""Orders and their lifecycle, in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    """The lifecycle an order goes through; docs/order-lifecycle.md describes each one."""

    PLACED = "PLACED"
    IN_REVIEW = "IN_REVIEW"
    AWAITING_STOCK = "AWAITING_STOCK"
    RESERVED = "RESERVED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    PACKED = "PACKED"
    IN_DELIVERY = "IN_DELIVERY"
    PARTIALLY_DELIVERED = "PARTIALLY_DELIVERED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    DELIVERY_FAILED = "DELIVERY_FAILED"
    REJECTED = "REJECTED"


FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.DELIVERY_FAILED,
                            OrderStatus.REJECTED})
# What the timeline of an order final for longer than the retention keeps: how it began and how it ended (the
# closing entry and any after it, an erasure say). The steps in between go; the order itself stays.
TIMELINE_SUMMARY = frozenset({OrderStatus.PLACED}) | FINAL_STATUSES


class ShipmentStage(StrEnum):
    PACKED = "PACKED"
    IN_DELIVERY = "IN_DELIVERY"
    DELIVERED = "DELIVERED"


_STAGES = list(ShipmentStage)


class InvalidOrder(ValueError):
    """An order request that breaks a business rule the schema cannot express."""


class IdempotencyConflict(ValueError):
    """An Idempotency-Key reused for a different request."""


class UnknownOrder(LookupError):
    """No order has this id."""


class OrderEnded(ValueError):
    """The order is final already: there is nothing left to abort."""


def check_abortable(order_id: str, status: OrderStatus) -> None:
    """An operator may abort any order that has not ended; raises OrderEnded otherwise."""
    if status in FINAL_STATUSES:
        raise OrderEnded(f"order {order_id} has ended ({status}): there is nothing to abort")


class ImplausibleReport(ValueError):
    """An event about an order that the read model cannot take in as it is; retrying cannot help."""


# Orders and shipments are identified by UUIDs; the read model stores them in columns that size.
MAX_ID_LENGTH = 36


def check_id(kind: str, value: str) -> None:
    """An id another service reports must be one the read model can look up and store."""
    if not 0 < len(value) <= MAX_ID_LENGTH or not value.isprintable():
        raise ImplausibleReport(f"{kind} {value[:60]!r}{'...' if len(value) > 60 else ''} is not an id: "
                                f"expected 1 to {MAX_ID_LENGTH} printable characters, got {len(value)}")


def check_printable(what: str) -> None:
    """Timeline text comes from other services' events; control characters (NUL above all) cannot be stored."""
    if not what.isprintable():
        raise ImplausibleReport(f"the event holds control characters: {what[:120]!r}")


class CancelOutcome(StrEnum):
    PENDING = "pending"  # asked of the process, which has not ended the order yet
    CANCELLED = "cancelled"
    REFUSED = "refused"


@dataclass(frozen=True)
class Cancellation:
    """A request to cancel an order, and what became of it; an order has at most one."""

    requested_at: datetime
    outcome: CancelOutcome = CancelOutcome.PENDING
    reason: str | None = None
    decided_at: datetime | None = None


def _refusal(status: OrderStatus) -> str | None:
    """Until delivery an order can be cancelled; afterwards the goods are with the customer."""
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return "the order has been delivered; return the goods instead of cancelling"
    if status is OrderStatus.DELIVERY_FAILED:
        return "the order already ended: its delivery failed and the goods were returned"
    if status is OrderStatus.REJECTED:
        return "the order already ended: it was rejected before anything was reserved"
    return None


def answer_cancel_request(status: OrderStatus, earlier: Cancellation | None, now: datetime) -> Cancellation:
    """What a request to cancel an order in `status` amounts to; asking again changes nothing."""
    if earlier is not None:
        return earlier
    if status is OrderStatus.CANCELLED:
        return Cancellation(now, CancelOutcome.CANCELLED, decided_at=now)
    reason = _refusal(status)
    if reason is not None:
        return Cancellation(now, CancelOutcome.REFUSED, reason, decided_at=now)
    return Cancellation(now)


# How an order can end while a cancellation is pending, and what that means for the request. Only
# the end is certain: up to the process's last step, the request may still interrupt the work.
_SETTLED_BY = {
    OrderStatus.CANCELLED: (CancelOutcome.CANCELLED, None),
    OrderStatus.COMPLETED: (CancelOutcome.REFUSED, "the order was delivered before the cancellation could stop it"),
    OrderStatus.DELIVERY_FAILED: (CancelOutcome.REFUSED,
                                  "the delivery failed first; the order ended with its goods returned to stock"),
    OrderStatus.REJECTED: (CancelOutcome.REFUSED, "the order was rejected first; nothing was reserved or shipped"),
}


def settle_cancellation(cancellation: Cancellation | None, final: OrderStatus, now: datetime) -> Cancellation | None:
    """The request's outcome once the order has ended `final`; None when there is nothing to settle."""
    if cancellation is None or cancellation.outcome is not CancelOutcome.PENDING:
        return None
    outcome, reason = _SETTLED_BY[final]
    return replace(cancellation, outcome=outcome, reason=reason, decided_at=now)


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """One shipment as the order has heard of it so far.

    `units` is None until its packing is reported: delivery events travel on another topic and
    may arrive first.
    """

    stage: ShipmentStage
    units: int | None = None


@dataclass(frozen=True)
class Progress:
    """What the other services have reported about an order so far, and how many units it has."""

    units_ordered: int
    # Sent to a person's review by the review rules, and nothing reported since (an approval leads to a reservation).
    in_review: bool = False
    reserved: bool = False
    backorder_open: bool = False
    shipments: tuple[Shipment, ...] = ()
    final: OrderStatus | None = None

    @property
    def units_packed(self) -> int:
        return sum(s.units or 0 for s in self.shipments)

    @property
    def unpacked_units_remain(self) -> bool:
        """Part of the order is not in any shipment yet: backordered, or waiting to be packed."""
        return self.backorder_open or self.units_packed < self.units_ordered


def normalise_lines(lines: list[OrderLine]) -> list[OrderLine]:
    """One line per SKU, quantities summed, in first-seen order."""
    if not lines:
        raise InvalidOrder("an order needs at least one item")
    totals: dict[str, int] = {}
    for line in lines:
        sku = line.sku.strip()
        if not sku:
            raise InvalidOrder("every item needs a sku")
        if line.quantity <= 0:
            raise InvalidOrder(f"quantity of {sku} must be positive, got {line.quantity}")
        totals[sku] = totals.get(sku, 0) + line.quantity
    return [OrderLine(sku, quantity) for sku, quantity in totals.items()]


@dataclass(frozen=True)
class OrderLimits:
    """How much one order may ask for, so that no single order takes all the free stock or asks the factory for
    a million units: units of one SKU (its line, once the items of that SKU are added up) and units in all."""

    max_units_per_line: int
    max_units_per_order: int


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one item of an order request: its place in the request's items, the field, why."""

    index: int
    field: str
    problem: str


class OrderLinesRefused(InvalidOrder):
    """Items of an order request the catalog or the limits refuse; each problem names its item."""

    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__("; ".join(f"items.{p.index}.{p.field}: {p.problem}" for p in problems))
        self.problems = problems


def check_lines(items: list[OrderLine], listed: set[str], limits: OrderLimits) -> None:
    """Every item names a listed SKU and the order keeps within its limits; otherwise OrderLinesRefused names
    each item at fault.

    The items of one SKU add up as in `normalise_lines`, so splitting a line does not get round its limit: the
    item that takes a total over a limit is the one named.
    """
    problems = []
    units_of: dict[str, int] = {}
    units = 0
    for index, item in enumerate(items):
        sku = item.sku.strip()
        if sku not in listed:
            problems.append(LineProblem(index, "sku", f"{sku} is not in the catalog"))
        before = units_of.get(sku, 0)
        units_of[sku] = before + item.quantity
        if before <= limits.max_units_per_line < units_of[sku]:
            problems.append(LineProblem(index, "quantity", f"{units_of[sku]} units of {sku}; an order takes at "
                                                           f"most {limits.max_units_per_line} of one SKU"))
        if units <= limits.max_units_per_order < units + item.quantity:
            problems.append(LineProblem(index, "quantity", f"{units + item.quantity} units in the order by this item; "
                                                           f"an order takes at most {limits.max_units_per_order}"))
        units += item.quantity
    if problems:
        raise OrderLinesRefused(problems)


# Where an order keeps a SKU (order_lines.sku, catalog_skus.sku), as long as the request allows one to be.
MAX_SKU_LENGTH = 100


def check_listing(sku: str, name: str) -> None:
    """A SKU the Warehouse lists must fit where orders keep their SKUs; control characters cannot be stored."""
    if not 0 < len(sku) <= MAX_SKU_LENGTH or not sku.isprintable() or not name.isprintable():
        raise ImplausibleReport(f"cannot list sku {sku[:60]!r} ({name[:60]!r}): expected 1 to {MAX_SKU_LENGTH} "
                                f"printable characters and a printable name")


def status_of(progress: Progress) -> OrderStatus:
    """The status follows from the facts, so events arriving in any order give the same answer.

    An order is DELIVERED only when every unit it has is in a shipment and every shipment is
    delivered: a first shipment delivered while the rest is still to come is PARTIALLY_DELIVERED.
    """
    if progress.final is not None:
        return progress.final
    if not progress.shipments:
        if progress.backorder_open:
            return OrderStatus.AWAITING_STOCK
        if progress.reserved:
            return OrderStatus.RESERVED
        return OrderStatus.IN_REVIEW if progress.in_review else OrderStatus.PLACED
    stages = {s.stage for s in progress.shipments}
    if ShipmentStage.DELIVERED in stages:
        if stages == {ShipmentStage.DELIVERED} and not progress.unpacked_units_remain:
            return OrderStatus.DELIVERED
        return OrderStatus.PARTIALLY_DELIVERED
    if progress.unpacked_units_remain:
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus(min(stages, key=_STAGES.index).value)


def later_stage(current: ShipmentStage | None, reported: ShipmentStage) -> ShipmentStage:
    """A shipment's stage only moves forward, whatever order its events arrive in."""
    if current is None:
        return reported
    return max(current, reported, key=_STAGES.index)


@dataclass(frozen=True)
class Report:
    """What one event or job says about an order: any of the facts its status follows from."""

    in_review: bool | None = None
    reserved: bool | None = None
    backorder_open: bool | None = None
    shipment: tuple[str, Shipment] | None = None
    final: OrderStatus | None = None


def take_in(current: Progress, shipments: dict[str, Shipment],
            report: Report) -> tuple[Progress, dict[str, Shipment]]:
    """The progress once `report` is taken in, and each shipment (by shipment id).

    A fact the report names replaces the stored one, a shipment only moves forward and keeps the
    units it was packed with, and a final status, once reached, stays. A report that cannot be
    true (more units shipped than ordered, a shipment id that is none) is an ImplausibleReport.
    """
    shipments = dict(shipments)
    if report.shipment is not None:
        shipment_id, reported = report.shipment
        check_id("shipment id", shipment_id)
        known = shipments.get(shipment_id)
        shipments[shipment_id] = reported if known is None else Shipment(
            later_stage(known.stage, reported.stage), known.units if reported.units is None else reported.units)
    progress = Progress(
        units_ordered=current.units_ordered,
        in_review=current.in_review if report.in_review is None else report.in_review,
        reserved=current.reserved if report.reserved is None else report.reserved,
        backorder_open=current.backorder_open if report.backorder_open is None else report.backorder_open,
        shipments=tuple(shipments.values()),
        final=current.final or report.final,
    )
    if progress.units_packed > progress.units_ordered:
        raise ImplausibleReport(f"the order's shipments would carry {progress.units_packed} units, but it has "
                                f"only {progress.units_ordered}")
    return progress, shipments


def request_fingerprint(request: dict) -> str:
    """Stable hash of a request body, to tell a retry from a different request with the same key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_idempotent_retry(stored_fingerprint: str, fingerprint: str) -> None:
    if stored_fingerprint != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different order request")


class OrdersStillOpen(ValueError):
    """A customer's personal data is still needed: these orders of theirs are not final yet."""

    def __init__(self, order_ids: list[str]) -> None:
        super().__init__(f"{len(order_ids)} order(s) not final yet, which still need the shipping address: "
                         f"{', '.join(order_ids)}; erase once they are final (or cancel them)")
        self.order_ids = order_ids


def orders_to_erase(orders: dict[str, tuple[OrderStatus, bool]]) -> list[str]:
    """Of a customer's orders (id -> status, whether already erased), those whose personal data goes now.

    Only when every one is final: a courier still needs the address of an open order.
    """
    still_open = sorted(order_id for order_id, (status, _) in orders.items() if status not in FINAL_STATUSES)
    if still_open:
        raise OrdersStillOpen(still_open)
    return sorted(order_id for order_id, (_, erased) in orders.items() if not erased)


def waiting_for(backorder_open: bool, stages: list[ShipmentStage], *, in_review: bool = False) -> str | None:
    """What a non-final order legitimately waits for under a process deadline; None: it should be moving.

    Stock, couriers and reviewers take their time and the process escalates them itself (reminders, deadlines,
    a person's decision, a review past its due date). Anything else that stands still has stalled.
    """
    if in_review:
        return "a person to review the order"
    if backorder_open:
        return "stock for an open backorder"
    if ShipmentStage.IN_DELIVERY in stages:
        return "a courier to deliver"
    return None


# --- Review before any stock is reserved (bpmn/order-review.dmn decides; a person of fulfilment-reviewers answers).


class RejectOutcome(StrEnum):
    REFUSED = "refused"  # by the review rules, without a person
    REJECTED = "rejected"  # a reviewer said no
    CHANGES_REQUESTED = "changes-requested"  # a reviewer asked for changes: the customer places a new order


class ReviewMismatch(ValueError):
    """A rejection the review's result does not bear out (an approval, or no answer to a review); a retry
    cannot change it."""


@dataclass(frozen=True)
class Rejection:
    outcome: RejectOutcome
    reason: str


MAX_NOTE_LENGTH = 500
_ANSWERS = {"reject": (RejectOutcome.REJECTED, "rejected in review"),
            "changes": (RejectOutcome.CHANGES_REQUESTED, "changes asked for in review")}


def rejection(rules_outcome: str, rules_reason: str, answer: str | None, note: str | None) -> Rejection:
    """Why an order ends REJECTED: the rules' reason when they refused it, else the reviewer's answer with their
    note (the rules' reason, why it was reviewed at all, when they left none)."""
    if answer is None:
        if rules_outcome != "refuse":
            raise ReviewMismatch(f"the review rules said {rules_outcome!r} and nobody answered a review: "
                                 "nothing to reject the order for")
        return Rejection(RejectOutcome.REFUSED, f"refused by the review rules: {rules_reason}")
    if answer not in _ANSWERS:
        raise ReviewMismatch(f"the reviewer answered {answer!r}: that does not reject the order")
    outcome, what = _ANSWERS[answer]
    # The note is a person's free text, kept on the timeline: one line, printable, of a sensible length.
    note = " ".join("".join(c if c.isprintable() else " " for c in note or "").split())[:MAX_NOTE_LENGTH]
    return Rejection(outcome, f"{what}: {note}" if note else f"{what} (no note; reviewed because {rules_reason})")
