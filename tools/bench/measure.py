"""What a phase costs the stack: CPU seconds of each of its processes, and the engine's back-pressure."""
from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

from tools.stack.config import StackSettings
from tools.stack.processes import read_pid

BENCH = "bench"
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def stack_processes(settings: StackSettings) -> dict[str, int]:
    """Component name -> the pid the launcher started it as: every pid file, and PostgreSQL's own."""
    found = {}
    for path in sorted(settings.pids.glob("*.pid")) if settings.pids.is_dir() else ():
        pid = read_pid(settings, path.stem)
        if pid:
            found[path.stem] = pid
    postmaster = settings.state_dir / "postgres" / "data" / "postmaster.pid"
    try:
        found["postgres"] = int(postmaster.read_text().split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return found


def _process_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, own CPU ticks, CPU ticks of its reaped children) for every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        # cutime cstime, i.e. fields[1] is the parent and fields[11:15] the four times
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]),
                                  int(fields[13]) + int(fields[14]))
    return table


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
