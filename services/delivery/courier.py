"""The simulated courier loop: finishes deliveries once their configured delay has passed."""
from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from services.delivery import commands
from shared.db import unit_of_work

log = logging.getLogger(__name__)


def make_courier(poll_seconds: float):
    def courier_for(sessions: sessionmaker[Session]):
        def run(stop: threading.Event) -> None:
            while not stop.is_set():
                try:
                    with unit_of_work(sessions) as session:
                        finished = commands.finish_due_deliveries(session)
                except Exception:  # the deliveries stay due and are picked up next round
                    log.exception("courier round failed")
                    finished = 0
                if not finished:
                    stop.wait(poll_seconds)
        return run
    return courier_for
