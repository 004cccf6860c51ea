"""Warehouse service settings (FULFIL_WAREHOUSE_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from contracts.registry import WAREHOUSE
from runtime.settings import ServiceSettings, local_database_url


class WarehouseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_WAREHOUSE_", extra="ignore")

    service_name: str = WAREHOUSE.name
    http_port: int = WAREHOUSE.port
    database_url: str = local_database_url(WAREHOUSE.database)
