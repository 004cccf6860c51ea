"""The short soak: every component is SIGKILLed once while orders flow, and nothing may be lost or stranded.

`make chaos` is the long version (tools/chaos); this one keeps the suite to a few more minutes.
"""
import pytest

from tools.chaos.plan import COMPONENTS, Plan
from tools.chaos.soak import print_report, soak

pytestmark = pytest.mark.kills_components

SHORT = Plan(orders=90, rate=0.5, kills=len(COMPONENTS), shortest_down=2, longest_down=4, camunda_long_down=0,
             recovery_limit=60, settle_timeout=120, give_up_after=180, seed=20_251_124)


def test_no_order_is_lost_doubled_or_stranded_when_each_component_is_killed_once(stack):
    report = soak(stack, SHORT)
    print_report(report)
    assert sorted(o.kill.component for o in report.outcomes) == sorted(COMPONENTS)
    assert report.violations == [], report.summary()
