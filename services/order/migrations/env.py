"""Alembic environment of the order service: its tables plus the shared outbox and inbox."""
from services.order.db import metadata
from shared.runtime.migrations import run_env
from shared.runtime.tables import metadata as plumbing

run_env([metadata, plumbing])
