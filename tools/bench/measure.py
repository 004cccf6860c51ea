"""What a phase costs the stack: CPU seconds of each of its processes, and the engine's back-pressure."""
from __future__ import annotations

import os
import re
import urllib.request

from tools.stack import postgres, services
from tools.stack.config import StackSettings
from tools.stack.processes import pid_alive, process_stats, read_pid

BENCH = "bench"
# What pyzeebe 4.7's job poller logs when it stops polling a job type for a while (pyzeebe/worker/job_poller.py),
# by what the bench calls it: the broker refused an activation with RESOURCE_EXHAUSTED (a fixed 5 s pause), or
# the worker holds its maximum of running jobs of that type, not yet completed (shared.runtime.zeebe's workers: 1 s).
POLLER_PAUSES = {
    "activation refused": "Failed to activate jobs from the gateway. Exception: ZeebeBackPressureError",
    "worker full": "Maximum number of jobs running for",
}
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def stack_processes(settings: StackSettings) -> dict[str, int]:
    """Component name -> the pid the launcher started it as: every pid file, and PostgreSQL's own."""
    found = {}
    for path in sorted(settings.pids.glob("*.pid")) if settings.pids.is_dir() else ():
        pid = read_pid(settings, path.stem)
        if pid:
            found[path.stem] = pid
    server = postgres.server_pid(settings)
    if server and pid_alive(server):
        found["postgres"] = server
    return found


def _process_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, own CPU ticks, CPU ticks of its reaped children) for every process."""
    # stat fields after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime ...
    return {pid: (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
            for pid, fields in process_stats()}


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) each component has used so far: the process and all its descendants.

    PostgreSQL's backends and Camunda's JVM run as children of the pid the launcher recorded, so each root's
    whole tree counts, alive or reaped (a reaped child's time is in its parent's cutime/cstime). The bench's own
    process counts alone: when it started the stack, the stack's processes are its children.
    """
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    totals = {}
    for name, root in roots.items():
        ticks, pending = 0, [root]
        while pending:
            pid = pending.pop()
            if pid not in table:
                continue
            _, own, reaped = table[pid]
            ticks += own + reaped
            pending += children.get(pid, []) if name != BENCH else []
        totals[name] = ticks / _TICKS_PER_SECOND
    return totals


def dropped_requests(settings: StackSettings) -> float | None:
    """Requests the broker has refused with RESOURCE_EXHAUSTED since it started (None if it does not say)."""
    url = f"http://localhost:{settings.camunda_management_port}/actuator/prometheus"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    counts = re.findall(r"^zeebe_dropped_request_count_total\{[^}]*\} (\S+)$", text, re.MULTILINE)
    return sum(float(c) for c in counts) if counts else None


class LogCount:
    """How many lines of the service replicas' logs from now on have each of some texts and name one of some job
    types (pyzeebe's warnings name the job type they are about)."""

    def __init__(self, settings: StackSettings, texts: dict[str, str], job_types: list[str]) -> None:
        self.texts = texts
        self.job_types = job_types
        logs = [settings.logs / f"{replica.name}.log" for replica in services.started_replicas(settings)]
        self.offsets = {log: log.stat().st_size for log in logs if log.is_file()}

    def counts(self) -> dict[str, int]:
        totals = dict.fromkeys(self.texts, 0)
        for log, offset in self.offsets.items():
            with open(log, "rb") as lines:
                lines.seek(offset)
                appended = lines.read().decode(errors="replace")
            for line in appended.splitlines():
                for name, text in self.texts.items():
                    if text in line and any(job_type in line for job_type in self.job_types):
                        totals[name] += 1
        return totals
