"""Alembic environment of the order service: its tables plus the shared outbox and inbox."""
from services.order.db import metadata
from runtime.migrations import run_env
from runtime.tables import metadata as plumbing

run_env([metadata, plumbing])
