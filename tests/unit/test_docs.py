"""The docs quote figures that live in the code: each is read from the code here and looked for in the docs,
so changing a constant without the sentence that quotes it fails. Also: the README's first screen, and every
relative link in the docs leads somewhere."""
from __future__ import annotations

import argparse
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOC_FILES = [README, *sorted(p for p in (ROOT / "docs").rglob("*.md") if "node_modules" not in p.parts)]
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
                11: "eleven", 12: "twelve"}


def prose(path: Path) -> str:
    """The file with every run of whitespace as one space: sentences wrap anywhere."""
    return " ".join(path.read_text().split())


def doc(name: str) -> str:
    return prose(ROOT / name)


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def seconds(ms: float) -> str:
    return f"{ms / 1000:g} s"


def missing(text: str, phrases: list[str]) -> list[str]:
    return [phrase for phrase in phrases if phrase not in text]


# --- the job retry budget (shared/runtime/zeebe.py) ------------------------------------------------------------------

def retry_figures():
    from shared.runtime.zeebe import (
        FIRST_BACKOFF_MS,
        JOB_RETRIES,
        MAX_BACKOFF_MS,
        retry_backoff_ms,
        retry_budget_seconds,
    )

    waits = [retry_backoff_ms(JOB_RETRIES - failures) for failures in range(1, JOB_RETRIES)]
    # The wait before retry k follows failure k; from this retry on every wait is the cap.
    first_capped = waits.index(MAX_BACKOFF_MS) + 1 if MAX_BACKOFF_MS in waits else None
    budget = retry_budget_seconds()
    return JOB_RETRIES, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, first_capped, budget


def test_the_runbook_states_the_retry_budget_the_workers_have():
    retries, first, cap, first_capped, budget = retry_figures()
    assert first_capped is not None, "the backoff never reaches its cap: the runbook's sentence needs rewriting"
    assert missing(doc("docs/runbook.md"), [
        f"tried {retries} times",
        f"waiting {seconds(first)}, {seconds(2 * first)}, … doubling to at most {seconds(cap)} in between "
        f"(from the {ordinal(first_capped)} retry on)",
        f"about {round(budget / 60)} minutes ({int(budget)} s of waits plus the attempts",
    ]) == []


def test_the_architecture_and_the_process_guide_state_the_retry_budget_the_workers_have():
    retries, first, cap, _, budget = retry_figures()
    assert missing(doc("docs/architecture.md"), [
        f'every service task has `retries="{retries}"`',
        f"waits {first} ms, {2 * first} ms, … (doubling, at most {seconds(cap)})",
        f"The retry budget is about {round(budget / 60)} minutes** ({int(budget)} s of waits",
    ]) == []
    assert f'gets `retries="{retries}"`' in doc("docs/changing-the-process.md")


def test_the_job_timeout_and_database_waits_the_docs_give_are_the_codes():
    from shared.runtime.db import CONNECT_TIMEOUT_SECONDS, LOCK_TIMEOUT_MS, POOL_TIMEOUT_SECONDS, STATEMENT_TIMEOUT_MS
    from shared.runtime.zeebe import JOB_TIMEOUT_MS

    assert missing(doc("docs/architecture.md"), [
        f"activated with a {seconds(JOB_TIMEOUT_MS)} job timeout",
        f"(connect {CONNECT_TIMEOUT_SECONDS} s, pool {POOL_TIMEOUT_SECONDS} s, lock {seconds(LOCK_TIMEOUT_MS)}, "
        f"statement {seconds(STATEMENT_TIMEOUT_MS)})",
    ]) == []
    assert f"waited past their {seconds(JOB_TIMEOUT_MS)} deadline" in doc("docs/runbook.md")


def test_the_scrape_timeout_the_docs_give_is_the_codes():
    from shared.runtime.metrics import SCRAPE_STATEMENT_TIMEOUT_MS

    assert f"when Prometheus scrapes, with a {seconds(SCRAPE_STATEMENT_TIMEOUT_MS)} statement timeout" \
        in doc("docs/architecture.md")


# --- topics (shared/contracts/registry.py) ---------------------------------------------------------------------------

def test_the_dead_letter_topics_listed_are_the_registrys():
    from shared.contracts.registry import CONSUMERS

    sentence = re.search(r"Dead-letter topics: (.*?)\(", doc("docs/events.md"))
    assert sentence, "docs/events.md lists the dead-letter topics in a sentence starting `Dead-letter topics:`"
    assert re.findall(r"`([^`]+)`", sentence.group(1)) == [c.dead_letter_topic for c in CONSUMERS]


def test_every_dead_letter_topic_the_docs_name_exists():
    from shared.contracts.registry import CONSUMERS

    topics = {c.dead_letter_topic for c in CONSUMERS}
    named = {(path.name, topic) for path in DOC_FILES
             for topic in re.findall(r"(?<![\w<>])([a-z]+\.dead-letter)\b", path.read_text())}
    assert {(name, topic) for name, topic in named if topic not in topics} == set()


# --- the chaos soak (tools/chaos/plan.py) ----------------------------------------------------------------------------

def test_the_chaos_kill_rule_the_docs_and_make_help_give_is_the_plans():
    from tools.chaos.plan import COMPONENTS, Plan

    components = len(COMPONENTS)
    orders_per_kill = 100_000 // Plan(orders=100_000).kill_count
    default, long_run = Plan(), Plan(orders=1000)
    assert f"KILLS (ORDERS/{orders_per_kill}, min {components}: one per component)" in prose(ROOT / "Makefile")
    assert missing(doc("docs/chaos.md"), [
        f"the {NUMBER_WORDS.get(components, components)} components",
        f"default one per {orders_per_kill} orders, at least {components})",
        f"# {default.orders} orders at {default.rate:g}/s, {default.kill_count} kills (one per component)",
        f"# the long run: {long_run.kill_count} kills, Camunda down {long_run.camunda_long_down:g} s once",
        f"stays down {default.shortest_down:g}–{default.longest_down:g} s",
    ]) == []


def test_make_chaos_passes_the_plans_defaults():
    from tools.chaos.plan import Plan

    makefile = (ROOT / "Makefile").read_text()
    chaos = re.search(r"^chaos:.*?\n\n", makefile, re.S | re.M).group(0)
    assert f"--orders $(or $(ORDERS),{Plan().orders})" in chaos
    assert f"--rate $(or $(RATE),{Plan().rate:g})" in chaos
    assert f"ORDERS ({Plan().orders}) at RATE ({Plan().rate:g}/s)" in chaos


# --- metrics (shared/runtime/metrics.py and whatever else defines one) -----------------------------------------------

WRAPPERS = {"Counter": "counter", "Gauge": "gauge", "Histogram": "histogram", "Summary": "summary"}
FAMILIES = {"CounterMetricFamily": "counter", "GaugeMetricFamily": "gauge", "HistogramMetricFamily": "histogram",
            "SummaryMetricFamily": "summary"}


def exposed(name: str, kind: str) -> str:
    """The name Prometheus shows: a counter's gets `_total`."""
    return f"{name.removesuffix('_total')}_total" if kind == "counter" else name


def defined_metrics() -> dict[str, str]:
    """Every metric named in shared/ and services/: name as scraped -> where it is defined. Found in the source, as
    collectors such as the outbox backlog build their families only when Prometheus scrapes."""
    found = {}
    for path in [*(ROOT / "shared").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        kinds = {alias.asname or alias.name: {**WRAPPERS, **FAMILIES}[alias.name]
                 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and (node.module or "").startswith("prometheus_client")
                 for alias in node.names if alias.name in {**WRAPPERS, **FAMILIES}}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            arguments = [call.func, *call.args]  # Counter("name", ...) or single(CounterMetricFamily, "name", ...)
            for kind_node, name_node in zip(arguments, arguments[1:], strict=False):
                if (isinstance(kind_node, ast.Name) and kind_node.id in kinds
                        and isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
                    found[exposed(name_node.value, kinds[kind_node.id])] = str(path.relative_to(ROOT))
    return found


def documented_metric_names(text: str) -> set[str]:
    return set(re.findall(r"\b(fulfil(?:ment)?_[a-z0-9_]*[a-z0-9])\b", text))


def test_the_source_scan_finds_every_metric_object_the_runtime_registers():
    from prometheus_client.metrics import MetricWrapperBase

    from shared.runtime import metrics

    objects = {exposed(m._name, m._type) for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    assert objects and objects <= set(defined_metrics())


def test_the_metrics_page_lists_every_metric_the_code_defines_and_no_other():
    defined = defined_metrics()
    listed = documented_metric_names((ROOT / "docs/metrics.md").read_text())
    assert {name: where for name, where in defined.items() if name not in listed} == {}
    assert listed - set(defined) == set()


def test_every_metric_the_docs_name_exists():
    # A name may be a prefix, as in the runbook's `grep -E 'fulfil_outbox_(backlog|oldest)'`.
    defined = defined_metrics()
    unknown = {(path.name, name) for path in DOC_FILES for name in documented_metric_names(path.read_text())
               if not any(d.startswith(name) for d in defined)}
    assert unknown == set()


# --- the command line (tools/cli.py) ---------------------------------------------------------------------------------

def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next((dict(a.choices) for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})


def takes_as(parser: argparse.ArgumentParser) -> bool:
    return any("--as" in a.option_strings for a in parser._actions) or any(
        takes_as(sub) for sub in subparsers(parser).values())


def test_the_cli_page_has_every_command():
    from tools.cli import parser

    page = doc("docs/cli.md")
    missing_commands = []
    for area, area_parser in subparsers(parser()).items():
        commands = subparsers(area_parser)
        choices = next((a.choices for a in area_parser._actions if a.choices and not commands), None)
        if commands:
            missing_commands += [f"fulfil {area} {c}" for c in commands if f"`fulfil {area} {c}" not in page]
        elif choices:
            missing_commands += [f"fulfil {area} {c}" for c in choices
                                 if not re.search(rf"`fulfil {area} [^`]*\b{c}\b", page)]
        elif f"`fulfil {area}" not in page:
            missing_commands.append(f"fulfil {area}")
    assert missing_commands == []


def test_the_docs_put_as_where_the_cli_takes_it():
    from tools.cli import parser

    root = parser()
    assert takes_as(root) and any("--as" in a.option_strings for a in root._actions), "`fulfil --as USER` is gone"
    areas = subparsers(root)
    misplaced = {(path.name, match.group(0))
                 for path in DOC_FILES
                 for match in re.finditer(r"fulfil ([a-z-]+) [^`\n|]*?--as\b", path.read_text())
                 if match.group(1) in areas and not takes_as(areas[match.group(1)])}
    # The cli page shows one misplaced example on purpose, marked as refused.
    misplaced = {(name, found) for name, found in misplaced
                 if not (name == "cli.md" and found == "fulfil task list --as")}
    assert misplaced == set()
    assert "fulfil --as demo-reviewer task list" in doc("docs/cli.md")


# --- the README's first screen ---------------------------------------------------------------------------------------

def first_screen() -> str:
    return " ".join("\n".join(README.read_text().splitlines()[:60]).split())


def test_the_readme_starts_with_the_two_commands():
    top = first_screen()
    assert "make run" in top and "make test" in top


def test_the_readme_first_screen_gives_the_addresses_versions_and_logins_of_the_stack():
    from shared.contracts.registry import SERVICES
    from tools.stack.config import CAMUNDA_VERSION, StackSettings

    top = first_screen()
    ports = {s.name: s.port for s in SERVICES.values()}
    keycloak_port = StackSettings.model_fields["keycloak_port"].default
    zipkin_port = StackSettings.model_fields["zipkin_port"].default
    realm = json.loads((ROOT / "tools/stack/keycloak-realm.json").read_text())
    demo_users = [u["username"] for u in realm["users"] if not u["username"].startswith("service-account-")]
    assert missing(top, [
        f"http://127.0.0.1:{ports['order']}/docs", *(f":{ports[s]}/docs" for s in ("warehouse", "factory", "delivery")),
        f"http://127.0.0.1:{ports['analytics']}/", f"http://127.0.0.1:{ports['monitor']}/",
        f"http://127.0.0.1:{keycloak_port}/", f"http://127.0.0.1:{zipkin_port}/zipkin/",
        f"Camunda {'.'.join(CAMUNDA_VERSION.split('.')[:2])}",
        *(f"`{user}`" for user in demo_users), ".stack/keycloak/secrets.json", "make help",
    ]) == []


# --- other figures the docs quote ------------------------------------------------------------------------------------

def test_the_limits_and_retention_the_docs_give_are_the_settings_defaults():
    from services.analytics.settings import AnalyticsSettings
    from services.monitor.settings import MonitorSettings
    from services.order.settings import OrderSettings
    from shared.runtime.settings import ServiceSettings

    def default(cls, field):
        value = cls.model_fields[field].default
        return f"{value:g}" if isinstance(value, float) else str(value)

    service = ServiceSettings.model_fields
    assert service["max_request_bytes"].default % 1024 == 0
    assert missing(doc("docs/security.md"), [
        f"request bodies up to {service['max_request_bytes'].default // 1024} KiB",
        f"{default(ServiceSettings, 'address_rate_limit_per_second')} requests a second per client address on average "
        f"with bursts of {default(ServiceSettings, 'address_rate_limit_burst')}",
        f"and {default(ServiceSettings, 'rate_limit_per_second')} a second per token subject",
        f"with bursts of {default(ServiceSettings, 'rate_limit_burst')} (",
        f"published outbox rows after {default(ServiceSettings, 'outbox_retention_hours')} h",
        f"inbox event ids after {service['inbox_retention_hours'].default / 24:g} days",
        f"({default(ServiceSettings, 'history_retention_days')} days; the process monitor's "
        f"{default(MonitorSettings, 'history_retention_days')})",
    ]) == []
    assert missing(doc("docs/api.md"), [
        f"At most {default(OrderSettings, 'max_units_per_line')} units of one SKU",
        f"at most {default(OrderSettings, 'max_units_per_order')} units in all",
    ]) == []
    from shared.runtime.http import MAX_PAGE_SIZE

    assert missing(doc("docs/security.md"), [
        f"at most every {default(ServiceSettings, 'auth_jwks_refresh_seconds')} s (`..._AUTH_JWKS_REFRESH_SECONDS`)",
        f"Every list is paged with `limit` (at most {MAX_PAGE_SIZE})",
    ]) == []
    assert f"`FULFIL_MONITOR_STALLED_AFTER_SECONDS`, {default(MonitorSettings, 'stalled_after_seconds')} by default" \
        in doc("docs/monitor.md")
    assert f"at most every {default(AnalyticsSettings, 'figures_metrics_refresh_seconds')} s" in doc("docs/metrics.md")


def test_the_token_lifetime_and_replica_ports_the_docs_give_are_the_stacks():
    from tools.stack.config import REPLICA_PORT_STEP

    realm = json.loads((ROOT / "tools/stack/keycloak-realm.json").read_text())
    assert realm["accessTokenLifespan"] % 60 == 0
    assert f"Tokens live {realm['accessTokenLifespan'] // 60} minutes" in doc("docs/security.md")
    for name in ("docs/running.md", "docs/chaos.md"):
        assert f"port + {REPLICA_PORT_STEP}·(" in doc(name), name


# --- links and make help ---------------------------------------------------------------------------------------------

def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text())
    return {slug(h) for h in re.findall(r"(?m)^#+ (.+)$", text)}


def relative_links(path: Path) -> list[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(path):
    broken = []
    for target in relative_links(path):
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert broken == []


def test_make_help_lists_every_target_that_says_what_it_does():
    makefile = (ROOT / "Makefile").read_text()
    described = re.findall(r"(?m)^([a-z][a-z-]*):[^#\n]*## ", makefile)
    phony = re.search(r"(?m)^\.PHONY: (.*)$", makefile).group(1).split()
    assert "help" in described
    assert [target for target in described if target not in phony] == []


def test_the_docs_name_the_shared_folders_by_their_paths():
    # runtime/ and contracts/ moved under shared/ (shared.runtime, shared.contracts).
    stale = {(path.name, line.strip()[:80]) for path in DOC_FILES for line in path.read_text().splitlines()
             if re.search(r"(?<![\w/.-])(?:runtime|contracts)/", line)}
    assert stale == set()


def test_the_error_shape_the_api_page_gives_is_the_services():
    from http import HTTPStatus

    from shared.runtime.http import PROBLEM_MEDIA_TYPE, FieldProblem, Problem
    from shared.runtime.problems import KIND_OF_STATUS, MALFORMED_JSON, TYPE_PREFIX

    page = (ROOT / "docs/api.md").read_text()
    example = json.loads(re.search(r"## Errors.*?```json\n(.*?)```", page, re.S).group(1))
    assert set(example) == set(Problem.model_fields)
    assert set(example["errors"][0]) == set(FieldProblem.model_fields)
    assert example["type"] == TYPE_PREFIX + KIND_OF_STATUS[422]
    assert example["title"] == HTTPStatus(example["status"]).phrase
    kinds = re.findall(r"`([a-z-]+)`", re.search(r"problems/<kind>` \((.*?)\)", " ".join(page.split())).group(1))
    assert set(kinds) <= {*KIND_OF_STATUS.values(), MALFORMED_JSON}
    assert f"`{PROBLEM_MEDIA_TYPE}`" in page and f"`{TYPE_PREFIX}<kind>`" in page
