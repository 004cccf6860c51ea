"""The simulated courier: finishes deliveries once their configured delay has passed."""
from __future__ import annotations

from services.delivery import commands, db
from shared.contracts.delivery import SERVICE
from shared.runtime.outbox import loop_step
from shared.runtime.service import polling_loop


def make_courier(poll_seconds: float):
    return polling_loop("courier", loop_step(SERVICE, commands.finish_due_deliveries), poll_seconds,
                        woken_by=db.COURIER_ASSIGNED)
