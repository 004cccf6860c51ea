"""Order service settings (FULFIL_ORDER_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, local_database_url


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_ORDER_", extra="ignore")

    service_name: str = "order"
    http_port: int = 8001
    database_url: str = local_database_url("order")
