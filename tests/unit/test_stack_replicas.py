"""The launcher's replicas: names, ports apart from everything else, and which ones a stack has started."""
import pytest
from pydantic import ValidationError

from shared.contracts.registry import SERVICES
from tools.stack import keycloak, postgres
from tools.stack.config import StackSettings
from tools.stack.services import Replica, environment, replicas, started_replicas


def test_the_first_replica_keeps_the_service_port_and_name_and_the_next_ones_are_ten_ports_up():
    settings = StackSettings(replicas=3)
    port = settings.order_port
    assert [(r.name, r.port(settings)) for r in replicas(settings, "order")] == [
        ("order", port), ("order-2", port + 10), ("order-3", port + 20)]
    ports = [r.port(settings) for r in replicas(settings)]
    assert len(ports) == len(set(ports)) == 3 * len(SERVICES)


def test_first_replicas_come_first_so_they_migrate_before_the_others_start():
    numbers = [r.number for r in replicas(StackSettings(replicas=2))]
    assert numbers == sorted(numbers)


def test_settings_where_two_parts_would_share_a_port_are_refused():
    order_port = StackSettings().order_port
    with pytest.raises(ValidationError, match=rf"port\(s\) \[{order_port + 10}\]"):
        StackSettings(replicas=2, warehouse_port=order_port + 10)
    with pytest.raises(ValidationError, match="4242"):
        StackSettings(kafka_port=4242, postgres_port=4242)


def test_each_replica_gets_its_own_port_and_a_delivery_replica_asks_the_order_replica_of_its_number(tmp_path):
    settings = StackSettings(replicas=2, state_dir=tmp_path)  # the environment names generated secrets
    keycloak.generated_secrets(settings)
    postgres.generated_passwords(settings)
    second = settings.order_port + 10
    assert environment(settings, "order", 2)["FULFIL_ORDER_HTTP_PORT"] == str(second)
    assert environment(settings, "delivery", 2)["FULFIL_DELIVERY_ORDER_API_URL"] == f"http://127.0.0.1:{second}"
    assert environment(settings, "delivery", 1)["FULFIL_DELIVERY_ORDER_API_URL"] == \
        f"http://127.0.0.1:{settings.order_port}"


def test_the_replicas_a_stack_started_are_read_from_its_pid_files_whatever_is_asked_now(tmp_path):
    settings = StackSettings(state_dir=tmp_path)
    assert started_replicas(settings) == []
    settings.pids.mkdir(parents=True)
    for name in ("kafka", "camunda", "order", "order-2", "warehouse", "analytics-3"):
        (settings.pids / f"{name}.pid").write_text("1")
    assert started_replicas(settings) == [Replica("order"), Replica("warehouse"), Replica("order", 2),
                                          Replica("analytics", 3)]
