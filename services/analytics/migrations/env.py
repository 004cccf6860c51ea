"""Alembic environment of the analytics service: its tables plus the shared outbox and inbox."""
from services.analytics.db import metadata
from shared.runtime.migrations import run_env
from shared.runtime.tables import metadata as plumbing

run_env([metadata, plumbing])
