"""What the reconciler tells about a stalled order from the engine's side (services.order.reconciler)."""
from services.order.reconciler import EngineInstance, diagnose_process

FULFILMENT, SHIPMENT = "order-fulfillment", "order-shipment"


def test_an_unanswered_monitor_is_said_so():
    assert "did not answer" in diagnose_process(None, "PLACED")


def test_an_order_without_any_instance_never_got_its_start():
    assert "no process instance" in diagnose_process([], "PLACED")


def test_an_open_incident_comes_first_with_its_element_and_message():
    said = diagnose_process([EngineInstance(FULFILMENT, "ACTIVE", waiting_at=("ShipAvailable",)),
                             EngineInstance(SHIPMENT, "ACTIVE", waiting_at=("PickPack",),
                                            incidents=("PickPack: no such sku", "PickPack: again"))], "ALLOCATED")
    assert said.startswith("an incident is open at PickPack: no such sku (and 1 more)")


def test_an_ended_process_under_an_open_order_is_a_disagreement():
    said = diagnose_process([EngineInstance(FULFILMENT, "TERMINATED"), EngineInstance(SHIPMENT, "TERMINATED")],
                            "IN_DELIVERY")
    assert "no live process instance" in said and "(TERMINATED)" in said and "reads IN_DELIVERY" in said


def test_a_live_process_without_incident_says_where_it_waits():
    said = diagnose_process([EngineInstance(FULFILMENT, "ACTIVE", waiting_at=("ShipAvailable",)),
                             EngineInstance(SHIPMENT, "ACTIVE", waiting_at=("StartDelivery",))], "PACKED")
    assert said.startswith("its process waits at ShipAvailable, StartDelivery with no incident")
