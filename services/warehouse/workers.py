"""Warehouse job workers: the BPMN job types this service owns (shared.contracts.warehouse)."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from services.warehouse import commands
from services.warehouse.domain import Refused
from shared.contracts.base import Line
from shared.contracts.warehouse import (
    CheckAllocation,
    CheckAllocationResult,
    ExpediteBackorder,
    PickPack,
    PickPackResult,
    ReleaseStock,
    ReserveStock,
    ReserveStockResult,
    ReturnShipment,
)
from shared.runtime.db import unit_of_work
from shared.runtime.zeebe import JobHandlers, JobRejected

handlers = JobHandlers()


@handlers.task("warehouse.reserve-stock")
def reserve_stock(job: ReserveStock, sessions: Engine) -> ReserveStockResult:
    try:
        with unit_of_work(sessions) as session:
            reservation = commands.reserve_stock(session, job.order_id, [(i.sku, i.quantity) for i in job.items])
    except Refused as exc:
        raise JobRejected(str(exc)) from exc
    return ReserveStockResult(reservation_outcome=reservation.outcome)


@handlers.task("warehouse.pick-pack")
def pick_pack(job: PickPack, sessions: Engine) -> PickPackResult:
    with unit_of_work(sessions) as session:
        shipment_id, lines = commands.pick_and_pack(session, job.order_id, job.shipment_no)
    return PickPackResult(shipment_id=shipment_id, shipment_items=[Line(sku=s, quantity=q) for s, q in lines])


@handlers.task("warehouse.check-allocation")
def check_allocation(job: CheckAllocation, sessions: Engine) -> CheckAllocationResult:
    try:
        with unit_of_work(sessions) as session:
            allocated = commands.stock_allocated(session, job.order_id)
    except Refused as exc:
        raise JobRejected(str(exc)) from exc
    return CheckAllocationResult(stock_allocated=allocated)


@handlers.task("warehouse.expedite-backorder")
def expedite_backorder(job: ExpediteBackorder, sessions: Engine) -> None:
    with unit_of_work(sessions) as session:
        commands.expedite_backorder(session, job.order_id)


@handlers.task("warehouse.return-shipment")
def return_shipment(job: ReturnShipment, sessions: Engine) -> None:
    with unit_of_work(sessions) as session:
        commands.return_shipment(session, job.order_id, job.shipment_id)


@handlers.task("warehouse.release-stock")
def release_stock(job: ReleaseStock, sessions: Engine) -> None:
    with unit_of_work(sessions) as session:
        commands.release_stock(session, job.order_id, job.delivered_shipment_ids)
