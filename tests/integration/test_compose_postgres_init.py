"""docker-compose's PostgreSQL init script, run for real against a PostgreSQL cluster of its own (no Docker here)."""
from __future__ import annotations

import os
import socket
import subprocess

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shared.contracts.registry import SERVICES
from tools.stack import postgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def empty_cluster(tmp_path):
    """A new cluster as the image makes it: the local socket trusted (where init scripts run), TCP by password."""
    data, port, user = tmp_path / "data", free_port(), postgres._as_db_user()
    data.mkdir()
    postgres._make_readable_for_db_user(tmp_path)
    postgres._make_readable_for_db_user(data)
    postgres._run([postgres._bin("initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                   "--auth-host=scram-sha-256"], user)
    postgres._run([postgres._bin("pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"),
                   "-o", f"-h 127.0.0.1 -p {port} -k {data}", "start"], user)
    try:
        yield data, port
    finally:
        postgres._run([postgres._bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user)


def test_every_service_role_logs_in_with_its_password_to_its_own_database_only(empty_cluster):
    socket_dir, port = empty_cluster
    passwords = {s.database: f"pw-{s.name}-{os.urandom(4).hex()}" for s in SERVICES.values()}
    environment = {**os.environ, "PATH": f"{os.path.dirname(postgres._bin('psql'))}:{os.environ['PATH']}",
                   "PGHOST": str(socket_dir), "PGPORT": str(port),
                   **{postgres.password_variable(role): password for role, password in passwords.items()}}
    subprocess.run([str(postgres.INIT_SCRIPT)], env=environment, check=True, capture_output=True, text=True)

    def connect(role: str, database: str, password: str):
        engine = create_engine(f"postgresql+psycopg://{role}:{password}@127.0.0.1:{port}/{database}")
        try:
            with engine.connect() as connection:
                return connection.execute(text("SELECT current_user")).scalar()
        finally:
            engine.dispose()

    for role, password in passwords.items():
        assert connect(role, role, password) == role
        with pytest.raises(OperationalError, match="password authentication failed"):
            connect(role, role, "not-" + password)
        other = next(r for r in passwords if r != role)
        with pytest.raises(OperationalError, match="permission denied for database"):
            connect(role, other, password)
        with pytest.raises(OperationalError, match="permission denied for database"):
            connect(role, "postgres", password)


def test_a_missing_password_stops_the_script_and_says_which(empty_cluster):
    socket_dir, port = empty_cluster
    missing = postgres.password_variable(next(iter(SERVICES.values())).database)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FULFIL_POSTGRES_")}
    environment |= {"PATH": f"{os.path.dirname(postgres._bin('psql'))}:{os.environ['PATH']}",
                    "PGHOST": str(socket_dir), "PGPORT": str(port)}
    result = subprocess.run([str(postgres.INIT_SCRIPT)], env=environment, capture_output=True, text=True)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_the_script_puts_no_password_on_a_command_line(empty_cluster, tmp_path):
    socket_dir, port = empty_cluster
    passwords = {s.database: f"pw-{s.name}-{os.urandom(4).hex()}" for s in SERVICES.values()}
    # psql, recorded: every command line the script runs it with (what `ps` shows anyone on the machine).
    shims, command_lines = tmp_path / "shims", tmp_path / "psql-command-lines"
    shims.mkdir()
    (shims / "psql").write_text(f'#!/bin/sh\necho "$*" >> {command_lines}\nexec {postgres._bin("psql")} "$@"\n')
    (shims / "psql").chmod(0o755)
    environment = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "PGHOST": str(socket_dir),
                   "PGPORT": str(port),
                   **{postgres.password_variable(role): password for role, password in passwords.items()}}
    subprocess.run([str(postgres.INIT_SCRIPT)], env=environment, check=True, capture_output=True, text=True)

    recorded = command_lines.read_text()
    assert recorded.count("\n") == 1 + len(passwords)
    assert not [password for password in passwords.values() if password in recorded], recorded
