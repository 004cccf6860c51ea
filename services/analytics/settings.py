"""Analytics service settings (FULFIL_ANALYTICS_* environment variables)."""
from contracts.registry import ANALYTICS
from runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings, service=ANALYTICS):
    """Nothing of its own beyond the runtime settings."""
