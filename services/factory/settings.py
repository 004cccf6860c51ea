"""Factory service settings (FULFIL_FACTORY_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from contracts.registry import FACTORY
from runtime.settings import ServiceSettings, local_database_url


class FactorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_FACTORY_", extra="ignore")

    service_name: str = FACTORY.name
    http_port: int = FACTORY.port
    database_url: str = local_database_url(FACTORY.database)
    # How long producing a replenishment request takes.
    production_seconds: float = 2.0
    production_poll_seconds: float = 0.5
