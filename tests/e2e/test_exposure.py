"""What the running stack exposes: every socket it listens on is on loopback, and PostgreSQL asks each role for its
password and lets it into its own database only."""
from __future__ import annotations

import ipaddress
import re
import subprocess

import psycopg
import pytest

from shared.contracts.registry import SERVICES
from tools.stack import postgres
from tools.stack.processes import process_stats, read_pid

LISTENING = re.compile(r"^(?P<protocol>\S+)\s+\S+\s+\d+\s+\d+\s+(?P<address>\S+):(?P<port>\d+)\s+\S+\s+"
                       r"users:\((?P<users>.*)\)$")
# Linux hands out ephemeral ports from here up (net.ipv4.ip_local_port_range).
EPHEMERAL_PORTS = 32768


def stack_processes(stack, *names: str) -> set[int]:
    """The launcher's components (each leads a process group of its own; only `names` if given) and, unless names
    are given, PostgreSQL's server with its children."""
    groups = {pid for path in stack.pids.glob("*.pid")
              if (not names or path.stem in names) and (pid := read_pid(stack, path.stem))}
    server = None if names else postgres.server_pid(stack)
    found = set()
    for pid, fields in process_stats():
        if int(fields[2]) in groups or server is not None and server in (pid, int(fields[1])):
            found.add(pid)
    return found


def listening_sockets() -> list[tuple[str, str, int, set[int]]]:
    """(protocol, local address, port, pids holding it) of every TCP socket listening and every UDP socket bound
    on this machine."""
    output = subprocess.run(["ss", "-H", "-l", "-n", "-t", "-u", "-p"], capture_output=True, text=True,
                            check=True).stdout
    found = []
    for line in output.splitlines():
        match = LISTENING.match(line.strip())
        if match:
            pids = {int(pid) for pid in re.findall(r"pid=(\d+)", match["users"])}
            found.append((match["protocol"], match["address"].strip("[]"), int(match["port"]), pids))
    return found


def is_loopback(address: str) -> bool:
    address = address.split("%")[0].removeprefix("::ffff:")
    return address not in ("*", "0.0.0.0", "::") and ipaddress.ip_address(address).is_loopback


def test_every_socket_of_the_stack_listens_on_loopback_only(stack):
    ours, camunda = stack_processes(stack), stack_processes(stack, "camunda")
    sockets = [(protocol, address, port, pids) for protocol, address, port, pids in listening_sockets() if pids & ours]
    # It found the stack: Camunda's gRPC and REST, Kafka, PostgreSQL, Keycloak and every service.
    assert {stack.zeebe_grpc_port, stack.camunda_http_port, stack.kafka_port, stack.postgres_port,
            stack.keycloak_port, *(stack.service_port(s) for s in SERVICES)} <= {s[2] for s in sockets}
    elsewhere = [(protocol, address, port) for protocol, address, port, pids in sockets if not is_loopback(address)]
    # Camunda 8.6.0's UDP sockets bind the wildcard address whatever its host setting (tools/stack/camunda.py,
    # listen_environment): its cluster gossip on the cluster port, and its DNS resolver's ephemeral port.
    camundas_udp = [(protocol, address, port) for protocol, address, port, pids in sockets if pids <= camunda
                    and protocol == "udp" and (port == stack.zeebe_internal_port or port >= EPHEMERAL_PORTS)]
    assert len(camundas_udp) <= 2
    assert [s for s in elsewhere if s not in camundas_udp] == []


def connect(stack, role: str, database: str, password: str | None):
    return psycopg.connect(host="127.0.0.1", port=stack.postgres_port, user=role, dbname=database,
                           password=password, connect_timeout=5)


def test_a_service_role_reaches_its_own_database_with_its_password_and_no_other(stack):
    order, warehouse = SERVICES["order"].database, SERVICES["warehouse"].database
    password = stack.postgres_password(order)
    with connect(stack, order, order, password) as connection:
        assert connection.execute("SELECT current_user").fetchone() == (order,)
    with pytest.raises(psycopg.OperationalError, match=f'permission denied for database "{warehouse}"'):
        connect(stack, order, warehouse, password)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(stack, order, order, "not-its-password")
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(stack, postgres.SUPERUSER, "postgres", None)
