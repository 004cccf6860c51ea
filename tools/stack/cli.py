"""`python -m tools.stack up|down|status|logs|run|test|demo|bench|chaos|soak|secrets`: the stack on one machine."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from pydantic import ValidationError

from shared.contracts.registry import SERVICES
from tools import bootstrap
from tools.monitor import MonitorError
from tools.stack import browser, camunda, kafka, keycloak, postgres, prometheus, services, zipkin
from tools.stack.config import (
    CAMUNDA_VERSION,
    KAFKA_VERSION,
    KEYCLOAK_VERSION,
    REPLICA_PORT_STEP,
    REPO_ROOT,
    ZIPKIN_VERSION,
    StackSettings,
)
from tools.stack.errors import StackError
from tools.stack.processes import read_pid, step, stop

INFRASTRUCTURE = ("postgres", kafka.NAME, camunda.NAME, keycloak.NAME, zipkin.NAME)


def is_running(settings: StackSettings) -> bool:
    return any(read_pid(settings, name) for name in (kafka.NAME, camunda.NAME, keycloak.NAME, zipkin.NAME)) or bool(
        [r for r in services.started_replicas(settings) if read_pid(settings, r.name)])


def up(settings: StackSettings) -> None:
    started = time.monotonic()
    step(f"stack state lives in {settings.state_dir}")
    postgres.start(settings)
    keycloak.start(settings)
    zipkin.start(settings)
    kafka.start(settings)
    created = bootstrap.create_topics(settings.kafka_bootstrap)
    if created:
        step(f"created Kafka topics: {', '.join(created)}")
    camunda.start(settings)
    versions = bootstrap.deploy_bpmn(settings.zeebe_address)
    step("deployed bpmn/ as one deployment: " + ", ".join(f"{name} v{v}" for name, v in sorted(versions.items())))
    keycloak.wait_ready(settings)
    added = keycloak.sync_realm(settings)
    if added:
        step(f"applied the changed realm template to the running Keycloak: added {', '.join(added)}")
    zipkin.wait_ready(settings)
    services.start_all(settings)
    prometheus.start(settings)
    step(f"stack ready in {time.monotonic() - started:.1f}s")
    print_urls(settings)


def down(settings: StackSettings) -> None:
    if prometheus.stop(settings):
        step("stopped Prometheus")
    services.stop_all(settings)
    if read_pid(settings, camunda.NAME) and not camunda.snapshot_before_stop(settings):
        step("Camunda took no snapshot: its next start replays the log written since its last one")
    for name, what in ((camunda.NAME, "Camunda"), (kafka.NAME, "Kafka"), (keycloak.NAME, "Keycloak"),
                       (zipkin.NAME, "Zipkin")):
        if stop(settings, name, timeout=30):
            step(f"stopped {what}")
    if postgres.stop(settings):
        step("stopped PostgreSQL")


def print_urls(settings: StackSettings) -> None:
    print(f"""
  Order API (docs)   http://127.0.0.1:{settings.order_port}/docs
  Warehouse API      http://127.0.0.1:{settings.warehouse_port}/docs
  Factory API        http://127.0.0.1:{settings.factory_port}/docs
  Delivery API       http://127.0.0.1:{settings.delivery_port}/docs
  Analytics          http://127.0.0.1:{settings.analytics_port}/   (JSON /figures)
  Process monitor    http://127.0.0.1:{settings.monitor_port}/   (instances, incidents, user tasks; API /docs)
  Metrics            /metrics on every service port (Prometheus)
  Traces (Zipkin)    {settings.zipkin_url}/zipkin/   (Zipkin {ZIPKIN_VERSION}; an order's trace_id finds its trace)
  {_replica_ports(settings)}
  Camunda REST API   http://localhost:{settings.camunda_http_port}/v2/topology   (Camunda {CAMUNDA_VERSION})
  Camunda metrics    http://localhost:{settings.camunda_management_port}/actuator/prometheus
  Prometheus         {prometheus.summary(settings)}
  Zeebe gRPC         localhost:{settings.zeebe_grpc_port}
  Kafka              {settings.kafka_bootstrap}   (Kafka {KAFKA_VERSION})
  PostgreSQL         127.0.0.1:{settings.postgres_port}
  Keycloak           {settings.auth_issuer}   (Keycloak {KEYCLOAK_VERSION}; admin console
                     http://127.0.0.1:{settings.keycloak_port}/admin, user {keycloak.ADMIN_USER})
  Tokens             `fulfil token` (an operator's; --as demo-alice for a customer's); passwords and
                     secrets in {keycloak.secrets_file(settings)}
  Logs               {settings.logs}
""", flush=True)


def _replica_ports(settings: StackSettings) -> str:
    if settings.replicas == 1:
        return "Replicas           1 per service (FULFIL_STACK_REPLICAS)"
    return f"Replicas           {settings.replicas} per service; replica n listens on the service's port " \
           f"+ {REPLICA_PORT_STEP}·(n-1)"


def status(settings: StackSettings) -> int:
    """Every component and every service replica, asked for or still running; exit 3 if one is down."""
    from tools.stack.processes import port_is_open

    all_up = True
    for name in INFRASTRUCTURE:
        running = port_is_open(settings.postgres_port) if name == "postgres" else read_pid(settings, name) is not None
        all_up &= running
        print(f"  {name:<12} {'running' if running else 'stopped'}")
    if prometheus.binary():  # not installed is no failure of the stack: `make up` said how to get it
        all_up &= read_pid(settings, prometheus.NAME) is not None
    print(f"  {prometheus.NAME:<12} {prometheus.status(settings)}")
    wanted = services.replicas(settings)
    for replica in sorted({*wanted, *services.started_replicas(settings)},
                          key=lambda r: (list(SERVICES).index(r.service), r.number)):
        running = read_pid(settings, replica.name) is not None
        all_up &= running or replica not in wanted
        detail = f"  {services.readiness(settings, replica)}" if running else ""
        print(f"  {replica.name:<12} {'running' if running else 'stopped'}  "
              f"http://127.0.0.1:{replica.port(settings)}{detail}")
    return 0 if all_up else 3


def incidents(settings: StackSettings) -> int:
    """Open incidents, as Operate would list them (from the process monitor), and how to retry each."""
    from tools.monitor import print_incidents

    return print_incidents(settings)


def user_tasks(settings: StackSettings) -> int:
    """Open user tasks, as Tasklist would list them (from the process monitor), and how to complete each."""
    from tools.monitor import print_user_tasks

    return print_user_tasks(settings)


def print_secrets(settings: StackSettings) -> int:
    """The realm's and PostgreSQL's generated secrets as NAME=value lines: `python -m tools.stack secrets > .env`
    gives docker-compose.yml the same ones."""
    given = {**keycloak.generated_secrets(settings),
             **{postgres.password_variable(role): value
                for role, value in postgres.generated_passwords(settings).items()}}
    for name, value in sorted(given.items()):
        print(f"{name}={value}")
    return 0


def follow_logs(settings: StackSettings, names: tuple[str, ...] | None = None, from_end: bool = True) -> None:
    """Print new lines of every component's log, prefixed by its name, until interrupted."""
    handles = {}
    while True:
        for name in names or (*INFRASTRUCTURE, *(r.name for r in services.started_replicas(settings))):
            path = settings.logs / f"{name}.log"
            if name not in handles and path.is_file():
                handles[name] = open(path, errors="replace")
                if from_end:
                    handles[name].seek(0, os.SEEK_END)
            handle = handles.get(name)
            while handle and (line := handle.readline()):
                print(f"{name:<9}| {line}", end="", flush=True)
        time.sleep(0.3)


def run(settings: StackSettings) -> None:
    """Foreground mode: everything up, logs streamed, Ctrl-C stops it all."""
    try:
        up(settings)
        print("Streaming logs; press Ctrl-C to stop everything.", flush=True)
        follow_logs(settings, names=tuple(r.name for r in services.replicas(settings)))
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        down(settings)


def test(settings: StackSettings, pytest_args: list[str]) -> int:
    """Start what is not running, run the whole suite, stop what this command started."""
    browser.ensure_chromium()  # before anything starts: the browser tests need it, and a missing one stops here
    prometheus.ensure_installed(required=True)  # promtool for the alert rules' tests, and the e2e check
    started_here = not is_running(settings)
    try:
        up(settings)
        step("running the test suite against the real stack")
        env = {**os.environ, "FULFIL_STACK_RUNNING": "1"}
        result = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=REPO_ROOT, env=env)
        return result.returncode
    finally:
        if started_here:
            step("stopping the stack this test run started")
            down(settings)


def bench(settings: StackSettings, bench_args: list[str]) -> int:
    """Bench with the simulated courier's delay at 0, as the comparison with the engine's limit needs: start what
    does not run (and stop it afterwards), restart Delivery replicas that run with another delay (and restore them)."""
    from tools.bench import run as bench_run

    options = bench_run.parse(bench_args)
    started_here = not is_running(settings)
    os.environ[services.COURIER_DELAY] = "0"
    try:
        up(settings)
        with services.courier_delay(settings, 0):
            return bench_run.run(settings, options)
    finally:
        if started_here:
            step("stopping the stack this bench started")
            down(settings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "logs", "run", "test", "demo", "bench",
                                            "chaos", "soak", "incidents", "tasks", "secrets"])
    parser.add_argument("rest", nargs=argparse.REMAINDER,
                        help="extra arguments (test: passed to pytest; bench: see `python -m tools.stack bench "
                             "--help`; chaos: see `python -m tools.chaos --help`; soak: `python -m tools.stack soak "
                             "--help`)")
    args = parser.parse_args(argv)
    try:
        settings = StackSettings()
    except ValidationError as exc:
        print(f"error: {'; '.join(e['msg'] for e in exc.errors())}", file=sys.stderr)
        sys.exit(2)
    try:
        if args.command == "up":
            up(settings)
        elif args.command == "down":
            down(settings)
        elif args.command == "status":
            sys.exit(status(settings))
        elif args.command == "logs":
            follow_logs(settings, from_end=False)
        elif args.command == "run":
            run(settings)
        elif args.command == "test":
            sys.exit(test(settings, args.rest or ["-q"]))
        elif args.command == "secrets":
            sys.exit(print_secrets(settings))
        elif args.command == "tasks":
            sys.exit(user_tasks(settings))
        elif args.command == "incidents":
            sys.exit(incidents(settings))
        elif args.command == "demo":
            from tools.demo import demo

            demo(settings)
        elif args.command == "bench":
            sys.exit(bench(settings, args.rest))
        elif args.command == "chaos":
            from tools.chaos import soak

            plan = soak.parse(args.rest)
            up(settings)
            sys.exit(soak.run(settings, plan))
        elif args.command == "soak":
            from tools.chaos import volume

            plan = volume.parse(args.rest)
            up(settings)
            sys.exit(volume.run(settings, plan))
    except (StackError, MonitorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
