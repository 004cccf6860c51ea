"""Alembic environment of the process monitor: its tables plus the shared outbox and inbox."""
from services.monitor.db import metadata
from shared.runtime.migrations import run_env
from shared.runtime.tables import metadata as plumbing

run_env([metadata, plumbing])
