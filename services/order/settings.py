"""Order service settings (FULFIL_ORDER_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, local_database_url


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_ORDER_", extra="ignore")

    service_name: str = "order"
    http_port: int = 8001
    database_url: str = local_database_url("order")
    # Deadlines handed to each order's process (ISO 8601 durations), so they are set per deployment,
    # not in the model: seconds in development, days in production.
    stock_wait_reminder: str = "P1D"
    stock_wait_deadline: str = "P3D"
    delivery_reminder: str = "P2D"
    delivery_deadline: str = "P5D"
