"""`fulfil process deploy | versions`: check bpmn/ before the engine sees it, deploy it as one deployment, and list the
deployed versions with their running instances, as the process monitor counts them."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pyzeebe.errors import ProcessInvalidError, PyZeebeError

from shared.runtime.zeebe import JOB_RETRIES
from tools import bootstrap, bpmn_checks, monitor
from tools.bpmn_checks import Resources, RunningVersion
from tools.stack.config import StackSettings

BPMNLINT = bootstrap.BPMN_DIR / "node_modules" / ".bin" / "bpmnlint"


# Both are printed by `fulfil` as its other errors are (tools.cli catches MonitorError), with exit status 2.
class DeploymentRefused(monitor.MonitorError):
    """The files or the running versions do not allow the deployment; nothing was deployed."""


class DeploymentFailed(monitor.MonitorError):
    """The engine did not take a deployment that passed the checks."""


def lint_problems(files: list[str], bpmnlint: Path = BPMNLINT) -> list[str]:
    """What Camunda Modeler's linter says about the processes (bpmnlint with the camunda-compat 8.6 rules of
    bpmn/.bpmnlintrc, as `make lint-bpmn` runs it)."""
    if not bpmnlint.exists():
        return [f"bpmnlint is not installed ({bpmnlint} is missing): run `make lint-bpmn` once, which installs it "
                "and Camunda's rules into bpmn/node_modules with npm"]
    processes = [f for f in files if f.endswith(".bpmn")]
    config = bootstrap.BPMN_DIR / ".bpmnlintrc"
    result = subprocess.run([str(bpmnlint), "--config", str(config), *processes], cwd=bootstrap.BPMN_DIR,
                            capture_output=True, text=True, timeout=120)
    if result.returncode == 0:
        return []
    problems, file = [], None
    for line in result.stdout.splitlines():
        if line.strip().startswith("✖"):  # the count at the end
            continue
        if line and not line[0].isspace():
            file = Path(line.strip()).name
        elif line.strip() and file:
            problems.append(f"{file}: bpmnlint: {' '.join(line.split())}")
    return problems or [f"bpmnlint failed ({result.returncode}): {(result.stderr or result.stdout).strip()}"]


def _deployed_at(definition: dict) -> datetime:
    return datetime.fromisoformat(definition["deployed_at"])


class DeployedVersions:
    """The engine's deployed versions as the monitor projects them, each one's XML read once when needed."""

    def __init__(self, definitions: list[dict], read_xml: Callable[[int], str]) -> None:
        self.definitions = definitions
        self._read_xml = read_xml
        self._xml: dict[int, ET.Element] = {}

    @classmethod
    def from_monitor(cls, settings: StackSettings) -> DeployedVersions:
        return cls(monitor.definitions(settings), lambda key: monitor.definition_xml(settings, key))

    def xml(self, definition: dict) -> ET.Element:
        key = definition["key"]
        if key not in self._xml:
            self._xml[key] = ET.fromstring(self._read_xml(key))
        return self._xml[key]

    def version_tag(self, definition: dict) -> str | None:
        if definition.get("version_tag"):
            return definition["version_tag"]
        # A monitor without the column, or a version projected before it had one: the XML has the tag.
        return bpmn_checks.version_tag_of(self.xml(definition), definition["bpmn_process_id"])

    def called_version(self, caller: dict, process_id: str, binding: str) -> dict | None:
        """The version of `process_id` a call from `caller` starts: the one deployed with the caller when bound to
        its deployment (all files go as one deployment, so the newest no later than the caller), else the latest."""
        candidates = [d for d in self.definitions if d["bpmn_process_id"] == process_id
                      and (binding != "deployment" or _deployed_at(d) <= _deployed_at(caller))]
        return max(candidates, key=lambda d: d["version"], default=None)

    def job_types_needed(self, definition: dict, seen: frozenset[int] = frozenset()) -> set[str]:
        """The job types an instance of this version may still create, in the processes it calls too."""
        root = self.xml(definition)
        needed = bpmn_checks.job_types_of(root)
        for process_id, binding in bpmn_checks.called_processes_of(root):
            called = self.called_version(definition, process_id, binding)
            if called is not None and called["key"] not in seen | {definition["key"]}:
                needed |= self.job_types_needed(called, seen | {definition["key"]})
        return needed

    def running(self) -> list[RunningVersion]:
        return [RunningVersion(d["bpmn_process_id"], d["version"], d["active_instances"],
                               frozenset(self.job_types_needed(d)))
                for d in self.definitions if d["active_instances"]]


def deploy(settings: StackSettings, args) -> int:
    """Lint, check against the contracts, the handlers and the running versions; deploy only when nothing is wrong."""
    files = bootstrap.bpmn_files()
    try:
        resources = Resources.read(files)
    except bpmn_checks.UnreadableResource as exc:
        raise DeploymentRefused(f"refused, nothing deployed: {exc}") from exc
    handlers = bpmn_checks.handlers_by_job_type()
    problems = lint_problems(files)
    print(f"lint: {'ok' if not problems else f'{len(problems)} problem(s)'} ({len(resources.processes)} processes)")
    checked = bpmn_checks.problems(resources, handlers, retries=JOB_RETRIES)
    print(f"contracts, links and handlers: {'ok' if not checked else f'{len(checked)} problem(s)'}")
    running = DeployedVersions.from_monitor(settings).running()
    retired = bpmn_checks.running_version_problems(running, handlers)
    print(f"running versions: {len(running)} with running instances"
          f"{', every job type they need is handled' if not retired else f'; {len(retired)} problem(s)'}")
    for job_type in bpmn_checks.unused_handlers(resources, handlers):
        print(f"note: {job_type} has a handler but no process in bpmn/ uses it; remove it once no version that "
              "uses it is running (`fulfil process versions`)")
    problems += checked + retired
    if problems:
        raise DeploymentRefused(f"refused, nothing deployed ({len(problems)} problem(s)):\n"
                                + "\n".join(f"  - {p}" for p in problems))
    names = ", ".join(Path(f).name for f in files)
    if args.dry_run:
        print(f"dry run: would deploy {names} as one deployment; nothing deployed")
        return 0
    try:
        versions = bootstrap.deploy_bpmn(settings.zeebe_address, attempts=3, files=files)
    except ProcessInvalidError as exc:
        raise DeploymentFailed(f"the engine refused the deployment as invalid, nothing deployed: {exc}") from exc
    except PyZeebeError as exc:
        raise DeploymentFailed(f"the engine at {settings.zeebe_address} did not take the deployment: "
                               f"{type(exc).__name__} {exc}; is the stack up (`fulfil stack status`)?") from exc
    print(f"deployed {names} as one deployment:")
    for resource, version in sorted(versions.items()):
        print(f"  {resource:<24} version {version}")
    print("running instances stay on their versions; `fulfil process versions` lists them")
    return 0


def versions(settings: StackSettings, args) -> int:
    """Every deployed version, newest first per process, with its tag and what runs on it."""
    deployed = DeployedVersions.from_monitor(settings)
    rows = sorted(deployed.definitions, key=lambda d: (d["bpmn_process_id"], -d["version"]))
    width = max((len(d["bpmn_process_id"]) for d in rows), default=7)
    print(f"{'PROCESS':<{width}}  VERSION  TAG       DEPLOYED AT (UTC)    RUNNING  INCIDENTS")
    for d in rows:
        at = _deployed_at(d).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{d['bpmn_process_id']:<{width}}  {d['version']:>7}  {deployed.version_tag(d) or '-':<8}  {at}"
              f"  {d['active_instances']:>7}  {d['open_incidents']:>9}")
    print(f"{len(rows)} version(s) of {len({d['bpmn_process_id'] for d in rows})} process(es); running instances "
          "finish on their own version, or move with `fulfil process migrate PROCESS --from V --to V`")
    return 0
