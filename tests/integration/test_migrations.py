"""Migrations are the only way the schema changes: each service's database, migrated to head, matches its models."""
import pytest
from alembic import command

from shared.contracts.registry import SERVICES
from shared.runtime.migrations import alembic_config
from tests.integration.conftest import SERVICES_DIR


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrated_schema_matches_the_models(stack, service):
    # Raises when autogenerate would write a new migration, i.e. a model changed without one.
    command.check(alembic_config(SERVICES_DIR / service / "migrations", stack.database_url(service)))
