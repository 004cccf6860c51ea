"""Analytics service settings (FULFIL_ANALYTICS_* environment variables)."""
from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from services.analytics.domain import LONGEST_WINDOW
from shared.contracts.registry import ANALYTICS
from shared.runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings, service=ANALYTICS):
    # The figures as metrics (`/figures/metrics`) are computed again at most this often, however often they are
    # scraped: computing them reads every fact.
    figures_metrics_refresh_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _facts_outlast_every_chart(self) -> AnalyticsSettings:
        if timedelta(days=self.history_retention_days) <= LONGEST_WINDOW:
            raise ValueError(f"history_retention_days ({self.history_retention_days}) must exceed the longest "
                             f"chart ({LONGEST_WINDOW.days} days): the charts are drawn from the facts kept")
        return self
