"""Start detached processes with pid files and logs, wait for health, and stop them without strays."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tools.stack.config import StackSettings
from tools.stack.errors import StackError


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def require_free_port(port: int, what: str) -> None:
    if port_is_open(port):
        raise StackError(
            f"port {port} needed by {what} is already taken by another program; "
            f"stop it (e.g. `ss -ltnp 'sport = :{port}'` shows which) or `make down` if it is ours"
        )


def needs_start(settings: StackSettings, name: str, running: str, ports: dict[int, str]) -> bool:
    """False (saying `running`) if `name` runs already; True if it must be started and each of its ports
    (port -> what listens there) is free."""
    if read_pid(settings, name):
        step(running)
        return False
    for port, what in ports.items():
        require_free_port(port, what)
    return True


def pid_file(settings: StackSettings, name: str) -> Path:
    return settings.pids / f"{name}.pid"


def read_pid(settings: StackSettings, name: str) -> int | None:
    path = pid_file(settings, name)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return True


def start_detached(
    settings: StackSettings,
    name: str,
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `args` in its own session so `stop` can end it and all its children together."""
    settings.logs.mkdir(parents=True, exist_ok=True)
    settings.pids.mkdir(parents=True, exist_ok=True)
    log = open(settings.logs / f"{name}.log", "ab")
    process = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    log.close()
    pid_file(settings, name).write_text(str(process.pid))
    return process.pid


def stop(settings: StackSettings, name: str, timeout: float = 20.0) -> bool:
    """SIGTERM the process group, SIGKILL what is left after `timeout`; True if something ran."""
    pid = read_pid(settings, name)
    pid_file(settings, name).unlink(missing_ok=True)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.2)
    if _group_alive(pid):
        _signal_group(pid, signal.SIGKILL)
    return True


def kill(settings: StackSettings, name: str) -> bool:
    """SIGKILL the process group at once, as a crash would; the pid file stays, as it would. True if it ran."""
    pid = read_pid(settings, name)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGKILL)
    while _group_alive(pid):
        time.sleep(0.1)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/<pid>/stat after the command name: state ppid pgrp ...) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield int(entry.name), (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue


def _live_processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process that is not a zombie."""
    for pid, fields in process_stats():
        if fields[0] != "Z":
            yield pid, int(fields[1]), int(fields[2])


def _group_alive(pgid: int) -> bool:
    return any(group == pgid for _, _, group in _live_processes())


def children_of(pid: int) -> list[int]:
    return [child for child, parent, _ in _live_processes() if parent == pid]


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    settings: StackSettings,
    log_name: str,
    pid_name: str | None = None,
) -> None:
    """Poll `check` with a progress dot each second; fail naming the log when it never turns true."""
    started = time.monotonic()
    last_dot = started
    print(f"   waiting for {what}", end="", flush=True)
    while True:
        if check():
            print(f" ready ({time.monotonic() - started:.1f}s)", flush=True)
            return
        if pid_name and read_pid(settings, pid_name) is None:
            print(flush=True)
            raise StackError(
                f"{what} exited during start-up; the cause is at the end of {settings.logs / (log_name + '.log')}"
            )
        if time.monotonic() - started > timeout:
            print(flush=True)
            raise StackError(
                f"{what} was not ready after {timeout:.0f}s; see {settings.logs / (log_name + '.log')}"
            )
        if time.monotonic() - last_dot >= 2:
            print(".", end="", flush=True)
            last_dot = time.monotonic()
        time.sleep(0.25)


def step(message: str) -> None:
    print(f">> {message}", flush=True)


def python_executable() -> str:
    return sys.executable
