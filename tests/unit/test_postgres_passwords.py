"""The launcher sets PostgreSQL's role passwords without a password on any command line or in any error."""
from __future__ import annotations

import subprocess

import pytest

from tools.stack import postgres
from tools.stack.config import StackSettings
from tools.stack.errors import StackError


class FakePsql:
    """psql as the launcher runs it: answers the existence checks, and rejects the passwords' statement the way psql
    reports a syntax error, quoting the statement's first line (`LINE 1: …`)."""

    def __init__(self):
        self.command_lines: list[list[str]] = []

    def __call__(self, args, *, input=None, **_options):  # noqa: A002 - subprocess.run's own name
        self.command_lines.append(list(args))
        sql = input if input is not None else args[args.index("-c") + 1]
        if "PASSWORD" not in sql:
            return subprocess.CompletedProcess(args, 0, stdout="1\n", stderr="")
        first_line = sql.strip().splitlines()[0]
        return subprocess.CompletedProcess(args, 3, stdout="", stderr=(
            'psql:<stdin>:1: ERROR:  syntax error at or near "PASSWORD"\n'
            f"LINE 1: {first_line}\n"))


def test_role_passwords_are_on_no_command_line_and_in_no_error_of_a_failed_start(tmp_path, monkeypatch):
    settings = StackSettings(state_dir=tmp_path)
    passwords = postgres.generated_passwords(settings)
    psql = FakePsql()
    monkeypatch.setattr(postgres.subprocess, "run", psql)

    with pytest.raises(StackError) as failure:
        postgres._ensure_service_databases(settings, passwords)

    assert psql.command_lines
    for args in psql.command_lines:
        assert not [password for password in passwords.values() if password in " ".join(args)], args
    assert not [password for password in passwords.values() if password in str(failure.value)], failure.value
