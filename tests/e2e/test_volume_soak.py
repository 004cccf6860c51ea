"""The short volume soak: more orders wait for stock by design than the reconciler takes in one page, all of them
idle for hours, and a few orders are made stuck: each stuck one is reported or healed, no waiting one reported.

`make soak` is the long version (3,000 orders; tools/chaos/volume.py); this one keeps the suite to a few minutes.
"""
import pytest

from tools.chaos.volume import Soak, VolumePlan, verdict

pytestmark = pytest.mark.kills_components

# About 120 waiting orders: more than the 100 the reconciler once took before leaving the waiting ones out.
SHORT = VolumePlan(orders=150, rate=10, waiting_share=0.8, expired_starts=1, ended_behind_its_back=2, within=300,
                   settle_timeout=300, seed=20_261_207)


def test_every_stuck_order_is_reported_or_healed_behind_many_waiting_ones_and_no_waiting_one_is(stack):
    report = Soak(stack, SHORT, print)()
    print(report.summary())
    assert len(report.waiting) > 100
    assert len(report.stuck) == 3
    assert verdict(report) == [], report.summary()
