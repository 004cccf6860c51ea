"""Analytics service settings (FULFIL_ANALYTICS_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, local_database_url


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    http_port: int = 8005
    database_url: str = local_database_url("analytics")
