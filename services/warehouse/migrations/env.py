"""Alembic environment of the warehouse service: its tables plus the shared outbox and inbox."""
from services.warehouse.db import metadata
from shared.runtime.migrations import run_env
from shared.runtime.tables import metadata as plumbing

run_env([metadata, plumbing])
