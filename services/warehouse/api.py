"""Warehouse HTTP API: read stock; operators count it (compare-and-set) or adjust it (relative)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Connection

from services.warehouse import commands, db
from services.warehouse.domain import (
    IdempotencyConflict,
    NotEnoughFreeStock,
    StaleCount,
    StockLimitExceeded,
    UnknownSku,
)
from shared.contracts.roles import OPERATOR
from shared.runtime.auth import NO_ACTOR, Actor, allow
from shared.runtime.db import again_if_raced, unit_of_work
from shared.runtime.http import NOT_JSON, Identifier, PageLimit, PageOffset, Sessions, Text, Units, problem

router = APIRouter(tags=["stock"], dependencies=[allow(OPERATOR)])
# A count or an adjustment is kept with who made it; a token that names nobody may read stock, not change it.
NO_SUBJECT = problem(f"The role does not allow it, or {NO_ACTOR}")


class StockView(BaseModel):
    sku: str
    name: str
    on_hand: int = Field(description="free units: not reserved for any order")
    reserved: int
    version: int = Field(description="goes up with every change of on_hand or reserved; "
                                     'the ETag of the stock item is this number in quotes, e.g. "7"')


class SetStock(BaseModel):
    on_hand: int = Field(ge=0, le=1_000_000, strict=True, description="the free units counted")
    name: Text | None = Field(default=None, min_length=1, max_length=200,
                             description="needed only to add a SKU the catalog does not have yet")


class AdjustStock(BaseModel):
    quantity: int = Field(ge=-1_000_000, le=1_000_000, strict=True,
                          description="units found or delivered (+), or lost, damaged or taken out (-); not 0")
    reason: Text = Field(min_length=1, max_length=200, description="why, for reconciling stock later")

    @field_validator("quantity")
    @classmethod
    def _changes_something(cls, quantity: int) -> int:
        if quantity == 0:
            raise ValueError("an adjustment of 0 units changes nothing")
        return quantity


class AdjustmentView(BaseModel):
    id: int
    sku: str
    quantity: int
    reason: str
    actor: str = Field(description="who made it: their token's subject")
    to_backorders: int = Field(description="of the units added, those reserved at once for orders waiting for them")
    stock: StockView = Field(description="the stock item after the adjustment")


ETAG = {"ETag": {"description": 'The stock item\'s version in quotes, e.g. "7": send it as If-Match with a count',
                 "schema": {"type": "string"}}}
IF_MATCH = ("The ETag of the stock item the count was made against (from GET /stock/{sku}); a count of an "
            "existing SKU without it is refused with 428, a count against a changed item with 412. `*` counts "
            "against whatever is there now, deliberately overwriting changes made meanwhile.")


def _view(session: Connection, sku: str, response: Response | None = None) -> StockView:
    row = db.stock_item(session, sku)
    if response is not None:
        response.headers["ETag"] = f'"{row.version}"'
    return StockView(sku=row.sku, name=row.name, on_hand=row.on_hand, reserved=row.reserved, version=row.version)


def if_match_versions(if_match: str) -> frozenset[int] | None:
    """The versions an If-Match header names (None for `*`); a tag that is no version of ours matches none."""
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return None
    return frozenset(int(tag[1:-1]) for tag in tags
                     if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit())


@router.get("/stock", response_model=list[StockView])
def list_stock(all_sessions: Sessions, limit: PageLimit = 100, offset: PageOffset = 0) -> list[StockView]:
    """Stock items by SKU, a page at a time."""
    with unit_of_work(all_sessions) as session:
        return [StockView(sku=r.sku, name=r.name, on_hand=r.on_hand, reserved=r.reserved, version=r.version)
                for r in db.all_stock(session, limit, offset)]


@router.get("/stock/{sku}", response_model=StockView,
            responses={200: {"description": "The stock item; its ETag is what a count is made against",
                             "headers": ETAG},
                       404: problem("Unknown SKU")})
def get_stock_item(sku: Identifier, response: Response, all_sessions: Sessions) -> StockView:
    with unit_of_work(all_sessions) as session:
        if db.stock_item(session, sku) is None:
            raise HTTPException(404, detail=f"unknown sku {sku}")
        return _view(session, sku, response)


@router.put("/stock/{sku}", response_model=StockView,
            responses={**NOT_JSON,
                       200: {"description": "Counted; units added went to waiting backorders first", "headers": ETAG},
                       201: {"model": StockView, "description": "A new SKU added to the catalog", "headers": ETAG},
                       403: NO_SUBJECT, 404: problem("Unknown SKU and no name to add it with"),
                       412: problem("The stock item changed since the ETag in If-Match was read (or does not "
                                    "exist): read it again and recount"),
                       428: problem("If-Match missing: counting an existing SKU needs the ETag it was counted "
                                    "against")})
def set_stock(sku: Identifier, body: SetStock, response: Response, units: Units, caller: Actor,
              if_match: Annotated[str | None, Header(alias="If-Match", min_length=1, max_length=200,
                                                     description=IF_MATCH)] = None,
              ) -> StockView:
    """An operator's count of a SKU's free units, or a new SKU (with a name and no If-Match).

    Units the count adds go to orders waiting for them first, exactly like a factory arrival, so
    the stock shown afterwards may hold fewer free units than were counted.
    """
    try:
        with units() as uow:
            if if_match is not None:
                commands.count_stock(uow, sku, body.on_hand, if_match_versions(if_match), actor=caller.subject)
            elif body.name is not None and commands.add_sku(uow, sku, body.name, body.on_hand, actor=caller.subject):
                response.status_code = 201
            elif db.stock_item(uow.session, sku) is not None:
                raise HTTPException(428, detail=(
                    f"{sku} exists: send If-Match with the ETag of GET /stock/{sku} the count was made against, "
                    f"or POST /stock/{sku}/adjustments to add or remove units"))
            else:
                raise HTTPException(404, detail=f"unknown sku {sku}: give a name to add it to the catalog")
            return _view(uow.session, sku, response)
    except UnknownSku as exc:
        raise HTTPException(412, detail=f"unknown sku {sku}: If-Match cannot match; leave it out to add the "
                                        "SKU with a name") from exc
    except StaleCount as exc:
        raise HTTPException(412, detail=str(exc)) from exc
    except StockLimitExceeded as exc:  # cannot happen within the body's bounds; kept for a clear answer
        raise HTTPException(409, detail=str(exc)) from exc


@router.post("/stock/{sku}/adjustments", status_code=201, response_model=AdjustmentView,
             responses={**NOT_JSON,
                        201: {"description": "Adjusted; units added went to waiting backorders first"},
                        200: {"description": "A retry with the same Idempotency-Key: the first adjustment, "
                                             "not applied again; `stock` is as it is now"},
                        403: NO_SUBJECT, 404: problem("Unknown SKU"),
                        409: problem("Fewer units are free than would be removed (reserved units belong to "
                                     "orders), more would be in stock than one SKU can hold, or the "
                                     "Idempotency-Key was used for another adjustment")})
def adjust_stock(sku: Identifier, body: AdjustStock, response: Response, units: Units, caller: Actor,
                 idempotency_key: Annotated[Text | None, Header(alias="Idempotency-Key", min_length=1,
                                                                max_length=200)] = None) -> AdjustmentView:
    """Add or remove units relative to what is there when the change is made, so no concurrent change is lost.

    Added units go to orders waiting for them first, exactly like a factory arrival.
    """
    def adjust() -> tuple[bool, AdjustmentView]:
        with units() as uow:
            adjustment = commands.adjust_stock(uow, sku, body.quantity, body.reason, idempotency_key,
                                               actor=caller.subject)
            return adjustment.repeated, AdjustmentView(
                id=adjustment.id, sku=sku, quantity=adjustment.quantity, reason=adjustment.reason,
                actor=adjustment.actor or "",
                to_backorders=adjustment.to_backorders, stock=_view(uow.session, sku))

    try:
        # The same Idempotency-Key, for another SKU, may commit first: this request then finds it.
        repeated, view = again_if_raced(adjust)
    except UnknownSku as exc:
        raise HTTPException(404, detail=f"unknown sku {sku}") from exc
    except (NotEnoughFreeStock, StockLimitExceeded, IdempotencyConflict) as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    if repeated:
        response.status_code = 200
    return view
