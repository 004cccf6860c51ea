"""The launcher's way of setting a role's password (its SCRAM verifier, on psql's standard input), against the stack's
PostgreSQL: the role logs in with that password and no other."""
from __future__ import annotations

import secrets
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tools.stack import postgres
from tools.stack.postgres import scratch_database


def test_a_role_logs_in_with_the_password_the_launcher_set_and_no_other(stack):
    role, password = f"scratch_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(24)
    postgres.psql(stack, f'CREATE ROLE "{role}" LOGIN')
    try:
        postgres.set_passwords(stack, {role: password})
        with scratch_database(stack, "passwords") as url:
            def connect_as_role(with_password: str) -> str:
                engine = create_engine(make_url(url).set(username=role, password=with_password))
                try:
                    with engine.connect() as connection:
                        return connection.execute(text("SELECT current_user")).scalar()
                finally:
                    engine.dispose()

            assert connect_as_role(password) == role
            with pytest.raises(OperationalError, match="password authentication failed"):
                connect_as_role("not-" + password)
    finally:
        postgres.psql(stack, f'DROP ROLE "{role}"')
