"""How long finished history is kept: never shorter than what it must outlast."""
import pytest
from pydantic import ValidationError

from services.analytics.settings import AnalyticsSettings
from services.monitor.settings import MonitorSettings
from services.order.settings import OrderSettings


def test_history_is_kept_90_days_and_the_monitors_30():
    assert OrderSettings().history_retention_days == 90
    assert MonitorSettings().history_retention_days == 30


def test_history_shorter_than_the_inbox_memory_is_refused():
    # An event that came again after its rows went would start them afresh.
    with pytest.raises(ValidationError, match="must cover inbox_retention_hours"):
        OrderSettings(history_retention_days=10, inbox_retention_hours=14 * 24)
    assert OrderSettings(history_retention_days=1, inbox_retention_hours=24).history_retention_days == 1


def test_analytics_facts_must_outlast_the_longest_chart():
    with pytest.raises(ValidationError, match="longest chart"):
        AnalyticsSettings(history_retention_days=7, inbox_retention_hours=24)
    assert AnalyticsSettings(history_retention_days=8, inbox_retention_hours=24).history_retention_days == 8
