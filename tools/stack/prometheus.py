"""Prometheus on the local stack: Debian's package, scraping every service replica and Camunda, with the alert rules.

The scrape configuration is generated at each start from the settings (the replicas asked for, their ports), so it
never disagrees with what the launcher starts; the rules are the repository's own (ops/prometheus/alerts.yml, tested
by ops/prometheus/alerts.test.yml). Without the package and no way to install it (not root, or no apt), the stack
starts without Prometheus and says how to get it; `make test` needs it, for promtool and the e2e check.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import urllib.request
from pathlib import Path

from shared.contracts.registry import SERVICES
from tools.stack import debian, services
from tools.stack.config import REPO_ROOT, StackSettings
from tools.stack.errors import StackError
from tools.stack.processes import needs_start, read_pid, start_detached, step, wait_until
from tools.stack.processes import stop as stop_process

NAME = "prometheus"
RULES = REPO_ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = RULES.with_name("alerts.test.yml")
# Often enough that an alert's `for:` of a minute sees a dozen samples, and a test sees a target up within seconds.
SCRAPE_INTERVAL = "5s"
CAMUNDA_JOB = "camunda"
MISSING = ("Prometheus is not installed, so nothing scrapes the metrics or evaluates the alerts: install Debian's "
           "package (sudo apt-get install prometheus), then `make up` starts it")


def binary(program: str = NAME) -> str | None:
    """`prometheus` or `promtool` on the PATH (Debian's package brings both)."""
    return shutil.which(program)


def ensure_installed(required: bool) -> bool:
    """Whether Prometheus and promtool are there, installing Debian's package when they are not and apt can.

    `required`: a missing one raises StackError saying how to install it, rather than answering False."""
    if not (binary() and binary("promtool")) and debian.can_install():
        debian.install(NAME, "to scrape the metrics and evaluate the alert rules: it is not on the PATH",
                       recommended=False)
    if binary() and binary("promtool"):
        return True
    if required:
        raise StackError(MISSING)
    return False


def promtool() -> str:
    """promtool, installed if need be; StackError when it cannot be."""
    ensure_installed(required=True)
    return binary("promtool")


def home(settings: StackSettings) -> Path:
    return settings.state_dir / NAME


def url(settings: StackSettings) -> str:
    return f"http://127.0.0.1:{settings.prometheus_port}"


def scrape_config(settings: StackSettings) -> dict:
    """Every replica the settings ask for, one job per service (named after it), and Camunda's management port."""
    jobs = [{"job_name": service,
             "static_configs": [{"targets": [f"127.0.0.1:{r.port(settings)}"
                                             for r in services.replicas(settings, service)]}]}
            for service in SERVICES]
    jobs.append({"job_name": CAMUNDA_JOB, "metrics_path": "/actuator/prometheus",
                 "static_configs": [{"targets": [f"127.0.0.1:{settings.camunda_management_port}"]}]})
    return {"global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
            "rule_files": [str(RULES)],
            "scrape_configs": jobs}


def write_config(settings: StackSettings) -> Path:
    """The scrape configuration as prometheus.yml (JSON, which is YAML too) in the state folder."""
    path = home(settings) / "prometheus.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scrape_config(settings), indent=2) + "\n")
    return path


def start(settings: StackSettings) -> None:
    """Start Prometheus (installing it if it is missing and can be); a running one reads the new configuration."""
    if not ensure_installed(required=False):
        step(MISSING)
        return
    config = write_config(settings)
    pid = read_pid(settings, NAME)
    if pid:
        os.kill(pid, signal.SIGHUP)  # reloads the targets (the replicas asked for may have changed) and the rules
    if not needs_start(settings, NAME, f"Prometheus already running on {url(settings)}/ (configuration reloaded)",
                       {settings.prometheus_port: "Prometheus"}):
        return
    step(f"starting Prometheus on {url(settings)}/ (every {SCRAPE_INTERVAL}; rules {RULES.relative_to(REPO_ROOT)})")
    start_detached(settings, NAME, [
        binary(), f"--config.file={config}", f"--storage.tsdb.path={home(settings) / 'data'}",
        f"--web.listen-address={settings.bind_host}:{settings.prometheus_port}",
    ], cwd=home(settings))
    wait_until(lambda: ready(settings), what="Prometheus", timeout=60, settings=settings, log_name=NAME,
               pid_name=NAME)


def stop(settings: StackSettings) -> bool:
    return stop_process(settings, NAME)


def ready(settings: StackSettings) -> bool:
    try:
        with urllib.request.urlopen(f"{url(settings)}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def status(settings: StackSettings) -> str:
    """One line for `make status`: running, stopped, or not installed (which is no failure of the stack)."""
    if read_pid(settings, NAME):
        return f"running  {url(settings)}/"
    return "stopped" if binary() else "not installed (apt-get install prometheus)"


def summary(settings: StackSettings) -> str:
    """The line of the stack's addresses (`make run`, `make up`)."""
    if not binary():
        return "not installed: apt-get install prometheus, then `make up`"
    return f"{url(settings)}/   (alerts {url(settings)}/alerts; rules ops/prometheus/alerts.yml)"
