"""Warehouse HTTP API: read stock, and set a SKU's on-hand quantity (operators and tests)."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from runtime.db import unit_of_work
from runtime.http import NOT_JSON, Identifier, Sessions, Text, problem
from services.warehouse import db

router = APIRouter(tags=["stock"])


class StockView(BaseModel):
    sku: str
    name: str
    on_hand: int
    reserved: int


class SetStock(BaseModel):
    on_hand: int = Field(ge=0, le=1_000_000, strict=True)
    name: Text | None = Field(default=None, min_length=1, max_length=200,
                             description="needed only to add a SKU the catalog does not have yet")



@router.get("/stock", response_model=list[StockView])
def list_stock(all_sessions: Sessions) -> list[StockView]:
    with unit_of_work(all_sessions) as session:
        return [StockView(sku=r.sku, name=r.name, on_hand=r.on_hand, reserved=r.reserved)
                for r in db.all_stock(session)]


@router.put("/stock/{sku}", response_model=StockView,
            responses={**NOT_JSON, 404: problem("Unknown SKU and no name to add it with")})
def set_stock(sku: Identifier, body: SetStock, all_sessions: Sessions) -> StockView:
    """Set the free on-hand quantity of a SKU; with a name, an unknown SKU is added to the catalog."""
    with unit_of_work(all_sessions) as session:
        if not db.set_on_hand(session, sku, body.on_hand):
            if body.name is None:
                raise HTTPException(404, detail=f"unknown sku {sku}: give a name to add it to the catalog")
            db.add_sku(session, sku, body.name, body.on_hand)
        row = next(r for r in db.all_stock(session) if r.sku == sku)
        return StockView(sku=row.sku, name=row.name, on_hand=row.on_hand, reserved=row.reserved)
