"""Alembic environment of the plumbing tables every service database has, migrated after the service's own."""
from shared.runtime.migrations import PLUMBING_VERSION_TABLE, run_env
from shared.runtime.tables import metadata

run_env([metadata], version_table=PLUMBING_VERSION_TABLE, only_these_tables=True)
