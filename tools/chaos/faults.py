"""Crash a component as a power cut would (SIGKILL, no shutdown) and bring it back with the launcher's `up`."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tools.chaos.plan import INFRASTRUCTURE, Kill
from tools.orders import FINAL
from tools.stack import postgres, processes, services
from tools.stack.config import REPO_ROOT, StackSettings
from tools.stack.processes import port_is_open, read_pid

# Between a restart and the next kill, so each crash is a failure of its own and not a pile-up.
MIN_GAP_SECONDS = 5.0
RESTART_TIMEOUT = 600


def expected_processes(settings: StackSettings) -> list[str]:
    return [*INFRASTRUCTURE, *(r.name for r in services.replicas(settings))]


def is_running(settings: StackSettings, process: str) -> bool:
    if process == "postgres":
        return port_is_open(settings.postgres_port)
    return read_pid(settings, process) is not None


def kill(settings: StackSettings, process: str) -> bool:
    return postgres.kill(settings) if process == "postgres" else processes.kill(settings, process)


def restart(settings: StackSettings, log: Path) -> None:
    """`python -m tools.stack up` with these settings: it starts whatever does not run and waits until it is ready."""
    environment = {f"FULFIL_STACK_{name.upper()}": str(value) for name, value in settings.model_dump().items()}
    with open(log, "a") as out:
        result = subprocess.run([sys.executable, "-m", "tools.stack", "up"], cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, **environment},
                                timeout=RESTART_TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError(f"`python -m tools.stack up` failed with exit code {result.returncode}; see {log}")


@dataclass
class Outcome:
    kill: Kill
    at: float  # seconds into the soak
    back_after: float | None = None  # seconds from the kill until everything answered again
    # Seconds from then until a new order had gone all the way; None if none did within the limit.
    recovered_after: float | None = None
    # When none did: where that order stood, and what the outboxes held.
    stall: str = ""
    # The kill before this one that orders had not recovered from when this kill came, if any.
    stuck_since: str | None = None
    # What else was found down before the restart: it went down without being killed.
    also_down: tuple[str, ...] = ()
    failure: str | None = None


class Probe(Protocol):
    """A new order placed after a restart, to see whether the stack works end to end again."""

    def place(self, number: int) -> str | None:
        """Its id once the API accepted it; None if it did not within the probe's patience."""

    def status(self, order_id: str) -> str | None: ...

    def stall(self, order_id: str | None) -> str:
        """What an operator would look at when the probe does not finish: its status, the outboxes."""


class Killer:
    """Runs the kill schedule in a thread: kill, keep down, restart, then wait until a new order completes.

    Kills are spread over the time orders are placed, but the next one waits until the stack has shown
    it recovered from the last (bounded by `recovery_limit`): a crash the stack does not recover from
    is a finding of its own, and a later restart must not hide it.
    """

    def __init__(self, settings: StackSettings, schedule: list[Kill], spread_over: float, recovery_limit: float,
                 probe: Probe, say: Callable[[str], None], clock: Callable[[], float]) -> None:
        self.settings = settings
        self.schedule = schedule
        self.spread_over = spread_over
        self.recovery_limit = recovery_limit
        self.probe = probe
        self.say = say
        self.clock = clock
        self.log = settings.logs / "chaos.log"
        self.outcomes: list[Outcome] = []
        self.down: str | None = None
        self.last_restart_at: float | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="killer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self) -> None:
        self.thread.join()

    def _run(self) -> None:
        interval = self.spread_over / max(len(self.schedule), 1)
        ready_at = 0.0
        for number, planned in enumerate(self.schedule, start=1):
            due = max((number - 0.5) * interval, ready_at + MIN_GAP_SECONDS)
            if self.stop.wait(max(0.0, due - self.clock())):
                return
            outcome = self._crash(number, planned)
            self.last_restart_at = outcome.at + (outcome.back_after or 0)
            self._await_recovery(number, outcome)
            ready_at = self.clock()

    def _crash(self, number: int, planned: Kill) -> Outcome:
        outcome = Outcome(planned, at=self.clock())
        if self.outcomes:
            before = self.outcomes[-1]
            if before.recovered_after is None:
                outcome.stuck_since = before.stuck_since or before.kill.process
        self.outcomes.append(outcome)
        if not kill(self.settings, planned.process):
            outcome.failure = f"{planned.process} was not running when its kill came"
        self.down = planned.process
        self.say(f"kill {number}/{len(self.schedule)}: SIGKILL {planned.process}, down for {planned.down_seconds:.0f}s")
        self.stop.wait(planned.down_seconds)
        outcome.also_down = tuple(p for p in expected_processes(self.settings)
                                  if p != planned.process and not is_running(self.settings, p))
        try:
            restart(self.settings, self.log)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            outcome.failure = str(exc)
            self.say(f"restarting {planned.process} failed: {exc}")
        self.down = None
        outcome.back_after = self.clock() - outcome.at
        also = f"; also found down: {', '.join(outcome.also_down)}" if outcome.also_down else ""
        self.say(f"{planned.process} back {outcome.back_after:.1f}s after its kill{also}")
        return outcome

    def _await_recovery(self, number: int, outcome: Outcome) -> None:
        back = self.clock()
        order_id = self.probe.place(number)
        while order_id is not None and self.clock() - back < self.recovery_limit:
            try:
                finished = self.probe.status(order_id) in FINAL
            except Exception:  # noqa: BLE001 - the database answering is part of recovering
                finished = False
            if finished:
                outcome.recovered_after = self.clock() - back
                self.say(f"a new order went all the way {outcome.recovered_after:.1f}s after "
                         f"{outcome.kill.process} came back")
                return
            if self.stop.wait(1.0):
                return
        try:
            outcome.stall = self.probe.stall(order_id)
        except Exception as exc:  # noqa: BLE001 - evidence only
            outcome.stall = f"not readable: {type(exc).__name__}"
        self.say(f"NO new order went all the way within {self.recovery_limit:.0f}s after {outcome.kill.process} "
                 f"came back; {outcome.stall}")
