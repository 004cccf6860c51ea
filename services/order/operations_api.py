"""Order batch operations over HTTP: cancel or abort many orders as one operation, and its progress."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, model_validator

from services.order import batches
from services.order.domain import OrderStatus
from shared.contracts.roles import OPERATOR
from shared.runtime.auth import NO_ACTOR, Actor, allow
from shared.runtime.db import unit_of_work
from shared.runtime.http import NOT_JSON, Identifier, IsoTime, PageLimit, PageOffset, Sessions, Text, problem
from shared.runtime.operations import MAX_ITEMS, OperationView, view

router = APIRouter(tags=["operations"])
OPERATORS = [allow(OPERATOR)]
KINDS = {"abort": batches.ABORT, "cancel": batches.CANCEL}


class OrderBatchRequest(BaseModel):
    action: Literal["abort", "cancel"] = Field(
        description="cancel: as the customer's cancellation (refused once delivered); abort: for orders whose "
                    "process cannot finish, their work undone and the order CANCELLED")
    status: OrderStatus | None = Field(default=None, description="orders with this status")
    order_ids: list[Identifier] = Field(default=[], max_length=MAX_ITEMS, description="these orders")
    placed_before: IsoTime | None = None
    placed_after: IsoTime | None = None
    reason: Text | None = Field(default=None, min_length=1, max_length=500,
                                description="why (an abort needs it), for each order's timeline; no personal data")

    @model_validator(mode="after")
    def _narrowed(self) -> OrderBatchRequest:
        if self.status is None and not self.order_ids:
            raise ValueError("name the orders: a status or order_ids (and placed_before/placed_after to narrow)")
        if self.action == "abort" and not self.reason:
            raise ValueError("an abort needs a reason, for the orders' timelines")
        return self


class OrderOperationPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[OperationView]


NOT_FOUND = problem("No such operation")


@router.post("/order-operations", dependencies=OPERATORS, status_code=202, response_model=OperationView, responses={
    **NOT_JSON, 403: problem(f"The role does not allow it, or {NO_ACTOR}"),
    409: problem(f"More than {MAX_ITEMS} orders match")})
def start_order_operation(body: OrderBatchRequest, all_sessions: Sessions, caller: Actor) -> OperationView:
    """Cancel or abort every order that matches now, as one operation: a background loop takes the orders one by
    one through the order's own cancel or abort (an order cancelled meanwhile is 'already cancelled'), and GET
    /order-operations/{id} shows the progress and each order's result."""
    where = batches.OrderFilter(status=body.status, order_ids=tuple(body.order_ids), placed_before=body.placed_before,
                                placed_after=body.placed_after)
    try:
        with unit_of_work(all_sessions) as session:
            operation_id = batches.start(session, KINDS[body.action], where, caller.subject, body.reason)
    except batches.TooManyItems as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    return get_order_operation(operation_id, all_sessions)


@router.get("/order-operations", dependencies=OPERATORS, response_model=OrderOperationPage)
def list_order_operations(all_sessions: Sessions, limit: PageLimit = 50,
                          offset: PageOffset = 0) -> OrderOperationPage:
    """Batch operations on orders, newest first, with their counts (not their items)."""
    with unit_of_work(all_sessions) as session:
        total, rows = batches.operations.page(session, limit, offset)
    return OrderOperationPage(total=total, limit=limit, offset=offset, items=[view(r) for r in rows])


@router.get("/order-operations/{operation_id}", dependencies=OPERATORS, response_model=OperationView,
            responses={404: NOT_FOUND})
def get_order_operation(operation_id: Identifier, all_sessions: Sessions) -> OperationView:
    """One operation: who asked for what, its progress, and each order's result."""
    return batches.operations.answer(all_sessions, operation_id)
