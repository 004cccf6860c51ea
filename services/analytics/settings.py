"""Analytics service settings (FULFIL_ANALYTICS_* environment variables)."""
from __future__ import annotations

from datetime import timedelta

from pydantic import model_validator

from contracts.registry import ANALYTICS
from runtime.settings import ServiceSettings
from services.analytics.domain import LONGEST_WINDOW


class AnalyticsSettings(ServiceSettings, service=ANALYTICS):
    @model_validator(mode="after")
    def _facts_outlast_every_chart(self) -> AnalyticsSettings:
        if timedelta(days=self.history_retention_days) <= LONGEST_WINDOW:
            raise ValueError(f"history_retention_days ({self.history_retention_days}) must exceed the longest "
                             f"chart ({LONGEST_WINDOW.days} days): the charts are drawn from the facts kept")
        return self
