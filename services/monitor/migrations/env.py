"""Alembic environment of the process monitor: its tables plus the shared outbox and inbox."""
from runtime.migrations import run_env
from runtime.tables import metadata as plumbing
from services.monitor.db import metadata

run_env([metadata, plumbing])
