"""Alembic environment of the order service: its tables plus the shared outbox and inbox."""
from runtime.migrations import run_env
from runtime.tables import metadata as plumbing
from services.order.db import metadata

run_env([metadata, plumbing])
