"""Warehouse job workers: the BPMN job types this service owns (shared.contracts.warehouse)."""
from __future__ import annotations

from services.warehouse import commands
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
from shared.runtime.outbox import UnitsOfWork
from shared.runtime.zeebe import JobHandlers

handlers = JobHandlers(refusals=commands.REFUSALS)


@handlers.task("warehouse.reserve-stock")
def reserve_stock(job: ReserveStock, units: UnitsOfWork) -> ReserveStockResult:
    with units() as uow:
        reservation = commands.reserve_stock(uow, job.order_id, [(i.sku, i.quantity) for i in job.items])
    return ReserveStockResult(reservation_outcome=reservation.outcome)


@handlers.task("warehouse.pick-pack")
def pick_pack(job: PickPack, units: UnitsOfWork) -> PickPackResult:
    with units() as uow:
        shipment_id, lines = commands.pick_and_pack(uow, job.order_id, job.shipment_no)
    return PickPackResult(shipment_id=shipment_id, shipment_items=[Line(sku=s, quantity=q) for s, q in lines])


@handlers.task("warehouse.check-allocation")
def check_allocation(job: CheckAllocation, units: UnitsOfWork) -> CheckAllocationResult:
    with units() as uow:
        allocated = commands.stock_allocated(uow, job.order_id)
    return CheckAllocationResult(stock_allocated=allocated)


@handlers.task("warehouse.expedite-backorder")
def expedite_backorder(job: ExpediteBackorder, units: UnitsOfWork) -> None:
    with units() as uow:
        commands.expedite_backorder(uow, job.order_id)


@handlers.task("warehouse.return-shipment")
def return_shipment(job: ReturnShipment, units: UnitsOfWork) -> None:
    with units() as uow:
        commands.return_shipment(uow, job.order_id, job.shipment_id)


@handlers.task("warehouse.release-stock")
def release_stock(job: ReleaseStock, units: UnitsOfWork) -> None:
    with units() as uow:
        commands.release_stock(uow, job.order_id, job.delivered_shipment_ids)
