"""The alert rules (ops/prometheus/alerts.yml) are valid, each fires and stays quiet as alerts.test.yml says, and
every rule names metrics the suite or Camunda has and says what to do; the launcher's scrape configuration lists
every replica. promtool comes with Debian's prometheus, which the launcher installs when it can (root, apt)."""
import re
import subprocess
from functools import cache

import pytest
import yaml

from tests.unit.test_docs import ROOT, defined_metrics
from tools.stack import prometheus
from tools.stack.config import StackSettings
from tools.stack.errors import StackError

RULES = prometheus.RULES
CAMUNDA_FAMILIES = ROOT / "tests/unit/data/camunda-8.6-metric-families.txt"
# What a PromQL expression names that is not a metric: functions, keywords, aggregation and matching modifiers.
PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "group_left", "group_right",
                "and", "or", "unless", "rate", "irate", "increase", "delta", "deriv", "changes", "histogram_quantile",
                "le", "up", "absent", "bool", "offset", "topk", "clamp_min", "vector", "label_replace", "time"}


@pytest.fixture(scope="module")
def promtool() -> str:
    try:
        return prometheus.promtool()
    except StackError as missing:
        pytest.fail(f"the alert rules cannot be checked: {missing}")


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label names and values, and durations, left out)."""
    without_selectors = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expr)
    without_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", without_selectors)
    return {w for w in re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", without_groupings)} - PROMQL_WORDS


@cache
def known_families() -> frozenset[str]:
    """The suite's metric families (as docs/metrics.md lists them) and Camunda's."""
    camunda = {line for line in CAMUNDA_FAMILIES.read_text().splitlines() if line and not line.startswith("#")}
    return frozenset({*defined_metrics(), *camunda})


def known_metric(name: str) -> bool:
    """A metric family of the suite or Camunda's, a series of a histogram of one, or Prometheus' own `up`."""
    return name == "up" or name in known_families() or re.sub(r"_(bucket|sum|count)$", "", name) in known_families()


def test_the_rules_are_valid(promtool):
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_each_alert_fires_and_stays_quiet_as_its_tests_say(promtool):
    tested = subprocess.run([promtool, "test", "rules", prometheus.RULE_TESTS.name], cwd=RULES.parent,
                            capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_test_that_fires_it():
    tests = yaml.safe_load(prometheus.RULE_TESTS.read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case.get("exp_alerts")}
    quiet = {case["alertname"] for test in tests for case in test["alert_rule_test"] if not case.get("exp_alerts")}
    alerts = {rule["alert"] for rule in rules()}
    assert alerts <= fired, f"never seen firing: {alerts - fired}"
    assert alerts - quiet <= {"CamundaPartitionUnhealthy", "CamundaExporterPaused", "JobsFailing"}, \
        "alerts whose quiet case is only another series of the same test"


def test_every_rule_reads_metrics_that_exist():
    unknown = {(rule["alert"], name) for rule in rules() for name in metric_names(rule["expr"])
               if not known_metric(name)}
    assert not unknown


def test_every_alert_wakes_someone_with_a_severity_a_summary_and_what_to_do():
    runbook = (ROOT / "docs/runbook.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#{2,3} (.+)$", runbook, re.MULTILINE)}
    for rule in rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        pointed = re.findall(r"docs/runbook\.md#([a-z0-9-]+)", rule["annotations"]["description"])
        assert pointed and set(pointed) <= anchors, (rule["alert"], pointed)


def test_the_launchers_scrape_configuration_lists_every_replica_and_camunda():
    settings = StackSettings(replicas=2)
    jobs = {job["job_name"]: job for job in prometheus.scrape_config(settings)["scrape_configs"]}
    assert jobs["order"]["static_configs"][0]["targets"] == ["127.0.0.1:8001", "127.0.0.1:8011"]
    assert jobs["camunda"]["metrics_path"] == "/actuator/prometheus"
    assert prometheus.scrape_config(settings)["rule_files"] == [str(RULES)]
