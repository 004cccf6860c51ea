"""Delivery HTTP API: look up deliveries."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from services.delivery import db
from shared.contracts.roles import OPERATOR
from shared.runtime.auth import allow
from shared.runtime.db import unit_of_work
from shared.runtime.http import Identifier, Sessions, problem

router = APIRouter(tags=["deliveries"], dependencies=[allow(OPERATOR)])


class DeliveryView(BaseModel):
    id: str
    order_id: str
    shipment_id: str
    courier: str
    status: str
    dispatched_at: str
    due_at: str
    delivered_at: str | None


def _view(row) -> DeliveryView:
    return DeliveryView(id=row.id, order_id=row.order_id, shipment_id=row.shipment_id, courier=row.courier,
                        status=row.status, dispatched_at=row.dispatched_at.isoformat(),
                        due_at=row.due_at.isoformat(),
                        delivered_at=row.delivered_at.isoformat() if row.delivered_at else None)


@router.get("/deliveries", response_model=list[DeliveryView])
def deliveries_of_order(order_id: Identifier, all_sessions: Sessions) -> list[DeliveryView]:
    with unit_of_work(all_sessions) as session:
        return [_view(r) for r in db.of_order(session, order_id)]


@router.get("/deliveries/{delivery_id}", response_model=DeliveryView, responses={404: problem("Unknown delivery")})
def get_delivery(delivery_id: Identifier, all_sessions: Sessions) -> DeliveryView:
    with unit_of_work(all_sessions) as session:
        row = db.get(session, delivery_id)
        if row is None:
            raise HTTPException(404, detail=f"no delivery with id {delivery_id}")
        return _view(row)
