"""The kinds of column the services' migrations are written in: `col.identifier("order_id")`, `col.sku()`.

An order id, a SKU or a moment has one column type in every service's database; a migration names the
kind, not the type. Frozen: a migration that has run must go on meaning what it meant, so a kind's type
never changes (a new type is a new kind, and the model change gets its own migration).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

NOW = sa.text("now()")


def identifier(name: str = "id") -> sa.Column:
    """An id this suite minted: a UUID as text (orders, shipments, deliveries, requests)."""
    return sa.Column(name, sa.String(length=36), nullable=False)


def sku(name: str = "sku") -> sa.Column:
    return sa.Column(name, sa.String(length=100), nullable=False)


def engine_key(name: str = "key", nullable: bool = False, primary: bool = False) -> sa.Column:
    """A key Zeebe assigned; as a primary key it is given, never generated."""
    if primary:
        return sa.Column(name, sa.BigInteger(), autoincrement=False, nullable=False)
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def count(name: str, default: int | None = None, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable,
                     **({} if default is None else {"server_default": str(default)}))


def flag(name: str, default: bool) -> sa.Column:
    return sa.Column(name, sa.Boolean(), server_default="true" if default else "false", nullable=False)


def moment(name: str, nullable: bool = False, now: bool = False) -> sa.Column:
    """A point in time with its zone; `now=True`: the database fills it in when a row is written."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable,
                     **({"server_default": NOW} if now else {}))


def label(name: str, length: int, nullable: bool = False) -> sa.Column:
    """Short bounded text: a status, a name, an event type."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def trace_context(name: str = "traceparent") -> sa.Column:
    """The W3C traceparent of the work that wrote a row (55 characters), for the work that takes it up later to
    continue its trace (shared/runtime/tracing.py); none on rows written before traces were kept."""
    return sa.Column(name, sa.String(length=55), nullable=True)


def prose(name: str, nullable: bool = False) -> sa.Column:
    """Unbounded text: a reason, a message, a document."""
    return sa.Column(name, sa.Text(), nullable=nullable)


def document(name: str) -> sa.Column:
    """A JSON value kept whole (JSONB)."""
    return sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), nullable=False)


def serial(name: str = "id") -> sa.Column:
    """An integer primary key the database counts up."""
    return sa.Column(name, sa.Integer(), autoincrement=True, nullable=False)
