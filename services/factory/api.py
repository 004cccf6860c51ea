"""Factory HTTP API: the production orders it has taken."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.factory import db
from shared.contracts.roles import OPERATOR
from shared.runtime.auth import allow
from shared.runtime.db import unit_of_work
from shared.runtime.http import NOT_JSON, PageLimit, PageOffset, Sessions

router = APIRouter(tags=["production"], dependencies=[allow(OPERATOR)])


class ProductionOrderView(BaseModel):
    request_id: str
    order_id: str
    sku: str
    quantity: int
    status: str
    expedited: bool


class ProductionLine(BaseModel):
    running: bool = Field(strict=True)


@router.get("/production-orders", response_model=list[ProductionOrderView])
def list_production_orders(all_sessions: Sessions, limit: PageLimit = 100,
                           offset: PageOffset = 0) -> list[ProductionOrderView]:
    """Production orders, newest first, a page at a time."""
    with unit_of_work(all_sessions) as session:
        return [ProductionOrderView(request_id=r.request_id, order_id=r.order_id, sku=r.sku,
                                    quantity=r.quantity, status=r.status, expedited=r.expedited)
                for r in db.all_production_orders(session, limit, offset)]


@router.get("/production-line", response_model=ProductionLine)
def get_production_line(all_sessions: Sessions) -> ProductionLine:
    with unit_of_work(all_sessions) as session:
        return ProductionLine(running=db.line_running(session))


@router.put("/production-line", response_model=ProductionLine, responses=NOT_JSON)
def set_production_line(body: ProductionLine, all_sessions: Sessions) -> ProductionLine:
    """Stop or restart production (maintenance); requests keep arriving and wait."""
    with unit_of_work(all_sessions) as session:
        db.set_line_running(session, body.running)
    return body
