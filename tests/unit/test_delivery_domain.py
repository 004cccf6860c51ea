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


def test_couriers_refuse_the_undeliverable_postal_code_only():
    from services.delivery.domain import UNDELIVERABLE_POSTAL_CODE, refusal_reason

    assert refusal_reason({"postal_code": "8001"}) is None
    assert UNDELIVERABLE_POSTAL_CODE in refusal_reason({"postal_code": UNDELIVERABLE_POSTAL_CODE})


def test_redispatch_goes_to_the_next_courier_in_the_roster():
    from services.delivery.domain import other_courier

    assert [other_courier(c) for c in COURIERS] == [*COURIERS[1:], COURIERS[0]]
