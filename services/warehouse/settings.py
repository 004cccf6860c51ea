"""Warehouse service settings (FULFIL_WAREHOUSE_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, local_database_url


class WarehouseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_WAREHOUSE_", extra="ignore")

    service_name: str = "warehouse"
    http_port: int = 8002
    database_url: str = local_database_url("warehouse")
