"""Analytics service settings (FULFIL_ANALYTICS_* environment variables)."""
from pydantic import Field

from contracts.registry import ANALYTICS
from runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings, service=ANALYTICS):
    # The figures as metrics (`/figures/metrics`) are computed again at most this often, however often they are
    # scraped: computing them reads every fact.
    figures_metrics_refresh_seconds: float = Field(default=15.0, gt=0)
