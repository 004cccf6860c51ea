"""Analytics service settings (FULFIL_ANALYTICS_* environment variables)."""
from pydantic_settings import SettingsConfigDict

from contracts.registry import ANALYTICS
from runtime.settings import ServiceSettings, local_database_url


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FULFIL_ANALYTICS_", extra="ignore")

    service_name: str = ANALYTICS.name
    http_port: int = ANALYTICS.port
    database_url: str = local_database_url(ANALYTICS.database)
