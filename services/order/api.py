"""Order HTTP API: place, read, list and cancel orders; which SKUs they may name."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from services.order import commands, db, operations_api, reconciler
from services.order.domain import (
    Cancellation,
    CancelOutcome,
    IdempotencyConflict,
    InvalidOrder,
    OrderEnded,
    OrderLine,
    OrderLinesRefused,
    OrdersStillOpen,
    OrderStatus,
    UnknownOrder,
)
from services.order.process_monitor import ProcessMonitor
from services.order.settings import OrderSettings
from shared.contracts.roles import CUSTOMER, OPERATOR, SERVICE
from shared.runtime.auth import NO_ACTOR, Actor, Caller, CurrentCaller, allow
from shared.runtime.db import again_if_raced, unit_of_work
from shared.runtime.http import NOT_JSON, Identifier, PageLimit, PageOffset, Sessions, Text, Units, problem

router = APIRouter(tags=["orders"])
# An action the timeline records with who asked is refused to a token that names nobody.
NO_SUBJECT = problem(f"The role does not allow it, or {NO_ACTOR}")


class Item(BaseModel):
    sku: Text = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=10_000, strict=True)


class ShippingAddress(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    street: Text = Field(min_length=1, max_length=200)
    city: Text = Field(min_length=1, max_length=100)
    postal_code: Text = Field(min_length=1, max_length=20)
    country: str = Field(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")


class PlaceOrder(BaseModel):
    customer_id: Text | None = Field(default=None, min_length=1, max_length=100, description=(
        "the customer is the subject of the bearer token; if given, it must be that subject (403 otherwise)"))
    items: list[Item] = Field(min_length=1, max_length=100)
    shipping_address: ShippingAddress
    accept_partial_shipments: bool = Field(
        default=True, strict=True,
        description="ship what is in stock now and the rest later; false waits for everything")


# Answers are not validated against the rules for requests: what is stored is shown as it is.
class LineView(BaseModel):
    sku: str
    quantity: int


class AddressView(BaseModel):
    name: str
    street: str
    city: str
    postal_code: str
    country: str


class TimelineEntry(BaseModel):
    at: str
    status: str
    what: str
    event_type: str | None = None


class CancellationView(BaseModel):
    requested_at: str
    outcome: CancelOutcome = Field(description=(
        "pending: asked of the process, which has not stopped the order yet; cancelled; refused: too late, "
        "see reason"))
    reason: str | None = Field(default=None, description="why a cancellation was refused")
    decided_at: str | None = None


class OrderView(BaseModel):
    id: str
    customer_id: str
    status: OrderStatus
    status_reason: str | None = Field(default=None, description="why the order has its status, where that needs a "
                                                                 "reason: a REJECTED order's (the review rules' or "
                                                                 "the reviewer's answer and note)")
    accepts_partial: bool
    items: list[LineView]
    process_instance_key: int | None
    created_at: str
    updated_at: str
    cancellation: CancellationView | None = Field(default=None, description="the cancellation request, if any")
    timeline: list[TimelineEntry] | None = None
    monitor: str = Field(description="the order's process instances in the process monitor (a page)")
    trace_id: str | None = Field(default=None, description="the trace that placed the order (Zipkin: "
                                                           "/zipkin/traces/<trace_id>); none for orders placed "
                                                           "before traces were kept")


def _view(session: Connection, order, settings: OrderSettings, *, with_timeline: bool) -> OrderView:
    timeline = None
    if with_timeline:
        timeline = [TimelineEntry(at=t.at.isoformat(), status=t.status, what=t.what, event_type=t.event_type)
                    for t in db.get_timeline(session, order.id)]
    cancellation = db.cancellation_of(order)
    return OrderView(
        id=order.id, customer_id=order.customer_id, status=order.status, status_reason=order.status_reason,
        accepts_partial=order.accepts_partial,
        items=[LineView(sku=l.sku, quantity=l.quantity) for l in db.get_lines(session, order.id)],
        process_instance_key=order.process_instance_key,
        created_at=order.created_at.isoformat(), updated_at=order.updated_at.isoformat(),
        cancellation=None if cancellation is None else _cancellation_view(cancellation), timeline=timeline,
        monitor=settings.monitor_page(order.id), trace_id=order.trace_id,
    )


def _cancellation_view(cancellation: Cancellation) -> CancellationView:
    return CancellationView(requested_at=cancellation.requested_at.isoformat(), outcome=cancellation.outcome,
                            reason=cancellation.reason,
                            decided_at=cancellation.decided_at.isoformat() if cancellation.decided_at else None)


def _own_or_any(caller: Caller, order) -> bool:
    """Operators see every order; a customer only their own (another's is answered as unknown)."""
    return order is not None and (caller.has(OPERATOR) or order.customer_id == caller.subject)


@router.post("/orders", status_code=201, response_model=OrderView, dependencies=[allow(CUSTOMER)],
             responses={**NOT_JSON, 200: {"description": "A retry with the same Idempotency-Key: the original order"},
                        409: problem("Idempotency-Key reused for a different request"),
                        422: problem("Invalid order: the reason, and the fields at fault (e.g. `items.2.sku` for "
                                     "a SKU not in the catalog, `items.0.quantity` for more units than an order "
                                     "takes)")})
def place_order(body: PlaceOrder, request: Request, response: Response, units: Units, caller: CurrentCaller,
                idempotency_key: Annotated[Text | None, Header(min_length=1, max_length=200)] = None) -> OrderView:
    """Place an order for the customer the bearer token names.

    Every item must name a SKU in the catalog (`GET /catalog/{sku}`), and an order takes at most
    `FULFIL_ORDER_MAX_UNITS_PER_LINE` units of one SKU and `FULFIL_ORDER_MAX_UNITS_PER_ORDER` in all.
    """
    if body.customer_id is not None and body.customer_id != caller.subject:
        raise HTTPException(403, detail="a customer places orders only for themselves: customer_id must be the "
                                        "token's subject, or left out")

    def place() -> tuple[commands.Placed, OrderView]:
        # The answer is read in the same transaction: one round of the pool and the database fewer per order.
        with units() as uow:
            placed = commands.place_order(
                uow, customer_id=caller.subject,
                items=[OrderLine(i.sku, i.quantity) for i in body.items],
                shipping_address=body.shipping_address.model_dump(), accepts_partial=body.accept_partial_shipments,
                idempotency_key=idempotency_key, deadlines=request.app.state.settings.deadlines(),
                limits=request.app.state.settings.order_limits(),
            )
            order = db.get_order(uow.session, placed.order_id)
            return placed, _view(uow.session, order, request.app.state.settings, with_timeline=True)

    try:
        placed, view = again_if_raced(place)
    except OrderLinesRefused as exc:
        # Answered like the schema's own refusals: the problem of each item at fault, by its place in the request.
        raise RequestValidationError([{"loc": ("body", "items", p.index, p.field), "msg": p.problem,
                                       "type": "order_line"} for p in exc.problems]) from exc
    except InvalidOrder as exc:
        raise HTTPException(422, detail=f"invalid order: {exc}") from exc
    except IdempotencyConflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    if not placed.created:
        response.status_code = 200
    response.headers["Location"] = f"/orders/{placed.order_id}"
    return view


class CatalogItemView(BaseModel):
    sku: str
    name: str
    listed_at: str = Field(description="when the Order service first heard of it")


@router.get("/catalog/{sku}", response_model=CatalogItemView, tags=["catalog"],
            dependencies=[allow(CUSTOMER, OPERATOR)],
            responses={404: problem("Not in the catalog: the Warehouse has not listed it, or its announcement has "
                                    "not arrived yet")})
def catalog_item(sku: Identifier, all_sessions: Sessions) -> CatalogItemView:
    """A SKU orders may name, as the Warehouse announced it (`fulfilment.warehouse.sku-listed.v1`): a SKU the
    Warehouse adds is found here, and can be ordered, once its announcement has arrived, within seconds."""
    with unit_of_work(all_sessions) as session:
        item = db.catalog_sku(session, sku)
    if item is None:
        raise HTTPException(404, detail=f"{sku} is not in the catalog (yet)")
    return CatalogItemView(sku=item.sku, name=item.name, listed_at=item.listed_at.isoformat())


@router.get("/orders/{order_id}", response_model=OrderView, dependencies=[allow(CUSTOMER, OPERATOR)],
            responses={404: problem("Unknown order, or another customer's")})
def get_order(order_id: Identifier, request: Request, all_sessions: Sessions, caller: CurrentCaller) -> OrderView:
    with unit_of_work(all_sessions) as session:
        order = db.get_order(session, order_id)
        if not _own_or_any(caller, order):
            raise HTTPException(404, detail=f"no order with id {order_id}")
        return _view(session, order, request.app.state.settings, with_timeline=True)


@router.get("/orders", response_model=list[OrderView], dependencies=[allow(CUSTOMER, OPERATOR)])
def list_orders(request: Request, all_sessions: Sessions, caller: CurrentCaller, status: OrderStatus | None = None,
                limit: PageLimit = 50, offset: PageOffset = 0) -> list[OrderView]:
    """The newest orders first: every order for an operator, a customer's own for a customer."""
    customer_id = None if caller.has(OPERATOR) else caller.subject
    with unit_of_work(all_sessions) as session:
        return [_view(session, o, request.app.state.settings, with_timeline=False)
                for o in db.list_orders(session, status=status, customer_id=customer_id, limit=limit, offset=offset)]


class CancelAnswer(BaseModel):
    order_id: str
    status: OrderStatus
    result: str = Field(description="in words: cancellation requested, or cancelled")
    cancellation: CancellationView


@router.post("/orders/{order_id}/cancel", status_code=202, response_model=CancelAnswer,
             dependencies=[allow(CUSTOMER, OPERATOR)],
             responses={200: {"description": "Already cancelled", "model": CancelAnswer},
                        403: NO_SUBJECT, 404: problem("Unknown order, or another customer's"),
                        409: problem("Refused: delivered or otherwise ended; the refusal is on the order too")})
def cancel_order(order_id: Identifier, units: Units, response: Response, caller: Actor) -> CancelAnswer:
    """Ask for cancellation; the process stops wherever it is and undoes what was done.

    202 means the request is pending: the order's `cancellation.outcome` says later whether it
    took effect (cancelled) or came too late (refused, when the order was delivered first).
    """
    try:
        with units() as uow:
            if not _own_or_any(caller, db.get_order(uow.session, order_id)):
                raise UnknownOrder(order_id)
            cancellation, status = commands.request_cancellation(uow, order_id, actor=caller.subject)
    except UnknownOrder as exc:
        raise HTTPException(404, detail=f"no order with id {order_id}") from exc
    if cancellation.outcome is CancelOutcome.REFUSED:
        raise HTTPException(409, detail=f"order {order_id} cannot be cancelled: {cancellation.reason}")
    if cancellation.outcome is CancelOutcome.CANCELLED:
        response.status_code = 200
    result = "cancellation requested" if cancellation.outcome is CancelOutcome.PENDING else "cancelled"
    return CancelAnswer(order_id=order_id, status=status, result=result,
                        cancellation=_cancellation_view(cancellation))


class AbortRequest(BaseModel):
    reason: Text = Field(min_length=1, max_length=500, description="why, for the order's timeline (no personal data)")


class AbortAnswer(BaseModel):
    order_id: str
    result: str


@router.post("/orders/{order_id}/abort", status_code=202, response_model=AbortAnswer, tags=["operations"],
             dependencies=[allow(OPERATOR)],
             responses={**NOT_JSON, 200: {"description": "Asked for before: the abort runs", "model": AbortAnswer},
                        403: NO_SUBJECT, 404: problem("Unknown order"),
                        409: problem("The order has ended: nothing to abort")})
def abort_order(order_id: Identifier, body: AbortRequest, units: Units, response: Response,
                caller: Actor) -> AbortAnswer:
    """End an order its process cannot finish (an incident nobody can fix, an instance cancelled in the engine): its
    fulfilment stops wherever it is, its work is undone as a cancellation undoes it (deliveries called back, stock
    and packed shipments returned), and it ends CANCELLED. The timeline says who asked and why."""
    try:
        with units() as uow:
            asked = commands.abort_order(uow, order_id, reason=body.reason, actor=caller.subject)
    except UnknownOrder as exc:
        raise HTTPException(404, detail=f"no order with id {order_id}") from exc
    except OrderEnded as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    if not asked:
        response.status_code = 200
    return AbortAnswer(order_id=order_id, result="abort requested" if asked else "abort requested before")


@router.get("/orders/{order_id}/shipping-address", response_model=AddressView, tags=["internal"],
            dependencies=[allow(SERVICE)], responses={404: problem("Unknown order"),
                                                      410: problem("Erased at the customer's request")})
def shipping_address(order_id: Identifier, all_sessions: Sessions) -> AddressView:
    """For the Delivery service (its client-credentials token): the address stays here and never enters the process."""
    with unit_of_work(all_sessions) as session:
        order = db.get_order(session, order_id)
        if order is None:
            raise HTTPException(404, detail=f"no order with id {order_id}")
        if order.shipping_address is None:
            raise HTTPException(410, detail=f"the personal data of order {order_id} was erased on request "
                                            f"at {order.personal_data_erased_at.isoformat()}")
        return AddressView.model_validate(order.shipping_address)


class Erasure(BaseModel):
    customer_id: str
    erased_orders: list[str] = Field(description="orders whose personal data went now (none if it went before)")


@router.delete("/customers/{customer_id}/personal-data", response_model=Erasure, tags=["privacy"],
               dependencies=[allow(OPERATOR)], responses={
                   403: NO_SUBJECT,
                   409: problem("An order of the customer is not final yet and still needs the address")})
def erase_personal_data(customer_id: Identifier, units: Units, caller: Actor) -> Erasure:
    """On a customer's request: erase their personal data (the shipping address) from every order of theirs. The
    orders keep their ids, lines and history, and each one's timeline says when. Asking again erases nothing more."""
    try:
        with units() as uow:
            erased = commands.erase_personal_data(uow, customer_id, actor=caller.subject)
    except OrdersStillOpen as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    return Erasure(customer_id=customer_id, erased_orders=erased)


def _process_monitor(request: Request) -> ProcessMonitor:
    """One client of the monitor per process: its token (the service's own) is fetched once and renewed as it
    expires, not fetched again for every request."""
    state = request.app.state
    if getattr(state, "process_monitor", None) is None:
        state.process_monitor = ProcessMonitor(state.settings.monitor_url, state.settings.own_token())
    return state.process_monitor


class StallView(BaseModel):
    order_id: str
    status: OrderStatus
    idle_seconds: int
    diagnosis: str


@router.get("/stuck-orders", response_model=list[StallView], tags=["operations"], dependencies=[allow(OPERATOR)],
            responses={404: problem("`after` names no order")})
def stuck_orders(request: Request, all_sessions: Sessions, limit: PageLimit = 50,
                 after: Identifier | None = None) -> list[StallView]:
    """Orders that stalled: not final, waiting for neither stock nor a courier, and idle too long; oldest first, a
    page at a time (`after`: the last order id of the page before)."""
    settings = request.app.state.settings
    with unit_of_work(all_sessions) as session:
        cursor = None
        if after is not None:
            last = db.get_order(session, after)
            if last is None:
                raise HTTPException(404, detail=f"order {after} not found: `after` takes an order id of a page")
            cursor = (last.updated_at, last.id)
        stalls = reconciler.stalled_orders(session, timedelta(seconds=settings.stuck_after_seconds), after=cursor,
                                           limit=limit)
    engine = _process_monitor(request)
    return [StallView(order_id=s.order_id, status=s.status, idle_seconds=s.idle_seconds, diagnosis=s.diagnosis
                      or reconciler.diagnose_process(engine.instances_of(s.order_id), s.status))
            for s in stalls]


# Its own module, the same API: its routes are this router's (each declares its roles itself).
router.routes.extend(operations_api.router.routes)
