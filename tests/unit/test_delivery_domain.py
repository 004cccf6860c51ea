from datetime import datetime, timedelta, timezone

from services.delivery.domain import COURIERS, plan_delivery


def test_the_same_shipment_always_gets_the_same_courier():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = plan_delivery("shipment-1", now, 3)
    assert first.courier in COURIERS
    assert plan_delivery("shipment-1", now, 3).courier == first.courier


def test_the_delivery_is_due_after_the_configured_delay():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert plan_delivery("s", now, 2.5).due_at == now + timedelta(seconds=2.5)
