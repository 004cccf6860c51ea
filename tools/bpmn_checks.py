"""What the process files must satisfy to be deployed: their links resolve, their job types, messages and variables
are the contracts', every job type has one handler, and no running version loses a handler it still needs.

Each check returns its problems as sentences naming the file, the element and the fix; an empty list is a pass.
`fulfil process deploy` (tools/process_deployment.py) and the unit tests run the same checks.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shared.contracts.base import JobInput
from shared.contracts.catalog import JOBS, MESSAGES
from shared.contracts.registry import SERVICES

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
# A name a FEEL expression reads: not inside a string, not a path step after a dot, not a function being called.
FEEL_NAME = re.compile(r'"[^"]*"|(?<![.\w])([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()')
FEEL_WORDS = {"and", "or", "not", "null", "true", "false", "if", "then", "else", "for", "in", "return", "some",
              "every", "satisfies", "between", "instance", "of"}
# FEEL's built-in functions whose names have spaces (`date and time(...)`): their words are no variables.
FEEL_SPACED_FUNCTIONS = re.compile(
    r"\b(?:date and time|years and months duration|days and time duration|day of week|day of year|month of year|"
    r"week of year|last day of month|string length|string join|upper case|lower case|substring before|"
    r"substring after|starts with|ends with|list contains|index of|distinct values|insert before|get value|"
    r"get entries|get or else|is defined|is empty|put all|context put|context merge)\s*\(")
# Zeebe attributes that name what is set, not what is read.
WRITTEN = {"target", "resultVariable", "inputElement", "outputElement", "outputCollection"}


def feel_names(expression: str) -> set[str]:
    """The variables a FEEL expression (`=...` in a BPMN attribute) reads; a plain value reads none."""
    if not expression.startswith("="):
        return set()
    names = {m.group(1) for m in FEEL_NAME.finditer(FEEL_SPACED_FUNCTIONS.sub("f(", expression[1:])) if m.group(1)}
    return names - FEEL_WORDS


class UnreadableResource(ValueError):
    """A file that is not well-formed XML (a process, a decision) or JSON (a form)."""


def _parsed(path: Path, parse):
    try:
        return parse(path)
    except (ET.ParseError, ValueError) as exc:
        raise UnreadableResource(f"{path.name} cannot be read ({exc}): save it again from Camunda Modeler") from exc


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


@dataclass(frozen=True)
class Resources:
    """One deployment's files, parsed: processes (.bpmn), decisions (.dmn) and forms (.form), by file name."""

    processes: dict[str, ET.Element]
    decisions: dict[str, ET.Element]
    forms: dict[str, dict]

    @classmethod
    def read(cls, files: Iterable[str | Path]) -> Resources:
        paths = [Path(f) for f in files]
        return cls(processes={p.name: _parsed(p, ET.parse).getroot() for p in paths if p.suffix == ".bpmn"},
                   decisions={p.name: _parsed(p, ET.parse).getroot() for p in paths if p.suffix == ".dmn"},
                   forms={p.name: _parsed(p, lambda f: json.loads(f.read_text())) for p in paths
                          if p.suffix == ".form"})

    def all_of(self, tag: str) -> list[tuple[str, ET.Element]]:
        """(file name, element) for every element with this tag in the processes."""
        return [(name, element) for name, root in self.processes.items() for element in root.iter(tag)]

    def job_types(self) -> dict[str, str]:
        """Job type -> the first file that uses it (a FEEL job type is decided at run time: left out)."""
        found: dict[str, str] = {}
        for name, task in self.all_of(ZEEBE + "taskDefinition"):
            if not task.get("type", "=").startswith("="):
                found.setdefault(task.get("type"), name)
        return found

    def messages(self) -> dict[str, str | None]:
        """Message name -> the correlation key its subscription names (None for a start message)."""
        found = {}
        for _, message in self.all_of(BPMN + "message"):
            subscription = message.find(f"{BPMN}extensionElements/{ZEEBE}subscription")
            found[message.get("name")] = None if subscription is None else subscription.get("correlationKey")
        return found

    def process_ids(self) -> set[str]:
        return {p.get("id") for _, p in self.all_of(BPMN + "process")}

    def decision_ids(self) -> set[str]:
        return {e.get("id") for root in self.decisions.values() for e in root.iter() if _local(e.tag) == "decision"}

    def form_ids(self) -> set[str]:
        return {form.get("id") for form in self.forms.values()}

    def variables_set(self) -> set[str]:
        """What the processes write: io-mapping targets, decision results, the fields of their forms."""
        written = {e.get(attribute) for _, root in self.processes.items() for e in root.iter()
                   if e.tag.startswith(ZEEBE) for attribute in WRITTEN if e.get(attribute)}
        return written | {c["key"] for form in self.forms.values() for c in _components(form) if c.get("key")}

    def variables_read(self) -> dict[str, str]:
        """Variable -> the first file whose expressions read it (conditions, timers, zeebe attributes, decisions)."""
        expressions: list[tuple[str, str]] = []
        for name, root in self.processes.items():
            for element in root.iter():
                if _local(element.tag) in ("conditionExpression", "timeDuration", "timeCycle", "timeDate"):
                    expressions.append((name, (element.text or "").strip()))
                elif element.tag.startswith(ZEEBE):
                    expressions += [(name, value) for attribute, value in element.attrib.items()
                                    if attribute not in WRITTEN]
        for name, root in self.decisions.items():
            # A decision's input expressions are FEEL without the leading "=" of the BPMN's.
            expressions += [(name, "=" + (text.text or "").strip()) for e in root.iter()
                            if _local(e.tag) == "inputExpression" for text in e if _local(text.tag) == "text"]
        read: dict[str, str] = {}
        for name, expression in expressions:
            for variable in sorted(feel_names(expression)):
                read.setdefault(variable, name)
        return read


def _components(form: dict) -> list[dict]:
    """Every component of a form, those inside groups too."""
    found = []
    for component in form.get("components", []):
        found += [component, *_components(component)]
    return found


def variables_available(resources: Resources) -> set[str]:
    """What a process may read: the start variables, job and message outputs, and what the files themselves set."""
    from shared.contracts.process import OrderStart

    available = set(OrderStart.names())
    available |= {name for _, job in JOBS.values() if job.output for name in job.output.names()}
    available |= {name for _, m in MESSAGES.values() if m.variables for name in m.variables.names()}
    return available | resources.variables_set()


def contract_problems(resources: Resources) -> list[str]:
    """Every job type, message and variable the files use is in contracts/, and every contract's is used."""
    problems = []
    job_types = resources.job_types()
    for job_type, file in sorted(job_types.items()):
        if job_type not in JOBS:
            problems.append(f"{file}: job type {job_type} has no contract: declare its input in "
                            f"shared/contracts/{job_type.split('.')[0]}.py (a JobInput with job_type={job_type!r})")
    for job_type in sorted(set(JOBS) - set(job_types)):
        problems.append(f"job type {job_type} has a contract ({JOBS[job_type][1].__name__}) but no process uses it: "
                        "remove the contract or the task that was meant to use it")
    for job_type, (owner, model) in sorted(JOBS.items()):
        if not issubclass(model, JobInput) or job_type.split(".")[0] != owner or owner not in SERVICES:
            problems.append(f"job type {job_type} is declared in shared/contracts/{owner}.py: name it {owner}.<step> "
                            "after the service that owns it")
    messages = resources.messages()
    for name in sorted(set(messages) - set(MESSAGES)):
        problems.append(f"message {name} is caught by a process but has no contract: declare it in shared/contracts/")
    for name in sorted(set(MESSAGES) - set(messages)):
        problems.append(f"message {name} has a contract but no process catches it")
    for name in sorted(set(messages) & set(MESSAGES)):
        message, correlation = MESSAGES[name][1], messages[name]
        if correlation not in (None, f"={message.correlation}"):
            problems.append(f"message {name} is correlated on {correlation} in the BPMN, on "
                            f"={message.correlation} in its contract: make them the same")
        elif correlation is None and not (message.variables and message.correlation in message.variables.names()):
            problems.append(f"start message {name} does not carry {message.correlation}, its correlation variable")
    available = variables_available(resources)
    for job_type, (_, model) in sorted(JOBS.items()):
        optional = {field.alias for field in model.model_fields.values() if not field.is_required()}
        for variable in sorted(set(model.names()) - optional - available):
            problems.append(f"job type {job_type} reads {variable}, which nothing sets before it: set it in an "
                            "input mapping, a job's output or the order's start variables (shared/contracts/"
                            "process.py)")
    for variable, file in sorted(resources.variables_read().items()):
        if variable not in available:
            problems.append(f"{file}: an expression reads {variable}, which no contract, mapping or form sets")
    return problems


def link_problems(resources: Resources) -> list[str]:
    """Every called process, decision and form is among the files deployed with the caller."""
    problems = []
    kinds = [("calledElement", "processId", resources.process_ids(), "a process (*.bpmn)"),
             ("calledDecision", "decisionId", resources.decision_ids(), "a decision (*.dmn)"),
             ("formDefinition", "formId", resources.form_ids(), "a form (*.form)")]
    for tag, attribute, deployed, kind in kinds:
        for file, element in resources.all_of(ZEEBE + tag):
            target = element.get(attribute)
            if target and not target.startswith("=") and target not in deployed:
                problems.append(f"{file}: {tag} {attribute}={target!r} is not {kind} in bpmn/: add the file or "
                                f"correct the id (deployed: {', '.join(sorted(deployed)) or 'none'})")
    return problems


def handler_problems(resources: Resources, handlers: dict[str, list[str]], retries: int | None = None) -> list[str]:
    """Every job type has exactly one handler, in the service its name names (with the retries the workers expect)."""
    problems = []
    for job_type, file in sorted(resources.job_types().items()):
        owners = handlers.get(job_type, [])
        if not owners:
            problems.append(f"{file}: job type {job_type} has no handler: add "
                            f"@handlers.task({job_type!r}) to services/{job_type.split('.')[0]}/workers.py")
        elif len(owners) > 1:
            problems.append(f"{file}: job type {job_type} has {len(owners)} handlers ({', '.join(owners)}): "
                            "keep only the one in the service its name names")
        elif owners != [job_type.split(".")[0]]:
            problems.append(f"{file}: job type {job_type} is handled by {owners[0]}: name it after that service, "
                            f"or move the handler to services/{job_type.split('.')[0]}/workers.py")
    if retries is not None:
        for file, task in resources.all_of(ZEEBE + "taskDefinition"):
            if task.get("retries") != str(retries):
                problems.append(f"{file}: job type {task.get('type')} has retries={task.get('retries')!r}; the "
                                f"workers back off for {retries} (shared.runtime.zeebe.JOB_RETRIES): "
                                f"set it to {retries}")
    return problems


def unused_handlers(resources: Resources, handlers: dict[str, list[str]]) -> list[str]:
    """Handlers of job types these files no longer use: kept while older versions still run, removed after."""
    return sorted(set(handlers) - set(resources.job_types()))


@dataclass(frozen=True)
class RunningVersion:
    """A deployed version with running instances, and every job type they may still create (those of the processes
    it calls too)."""

    process_id: str
    version: int
    running: int
    job_types: frozenset[str]


def running_version_problems(running: Iterable[RunningVersion], handlers: dict[str, list[str]]) -> list[str]:
    """A version with running instances needs a handler for each of its job types, or those instances stop there.

    Only job types of the services (named `<service>.*`) count: a process with workers of its own (the bench's
    renamed reference, `bench-ref.*`) is not the services' to serve."""
    return [f"{v.process_id} version {v.version} has {v.running} running instance(s) that need job type {job_type}, "
            "which no service handles: keep its handler until they finish, or move them to a newer version "
            f"(fulfil process migrate {v.process_id} --from {v.version} --to N)"
            for v in sorted(running, key=lambda v: (v.process_id, v.version)) if v.running
            for job_type in sorted(v.job_types - set(handlers)) if job_type.partition(".")[0] in SERVICES]


def job_types_of(root: ET.Element) -> set[str]:
    """The job types of a deployed process's XML."""
    return {t.get("type") for t in root.iter(ZEEBE + "taskDefinition") if not t.get("type", "=").startswith("=")}


def called_processes_of(root: ET.Element) -> list[tuple[str, str]]:
    """(process id, binding type) of every call activity with a static process id."""
    return [(c.get("processId"), c.get("bindingType", "latest")) for c in root.iter(ZEEBE + "calledElement")
            if c.get("processId") and not c.get("processId").startswith("=")]


def version_tag_of(root: ET.Element, process_id: str) -> str | None:
    for process in root.iter(BPMN + "process"):
        if process.get("id") == process_id:
            tag = process.find(f"{BPMN}extensionElements/{ZEEBE}versionTag")
            return None if tag is None else tag.get("value")
    return None


def handlers_by_job_type() -> dict[str, list[str]]:
    """Job type -> the services whose workers handle it, from the code as it is now."""
    from services.delivery import workers as delivery_workers
    from services.order import workers as order_workers
    from services.warehouse import workers as warehouse_workers

    owners: dict[str, list[str]] = {}
    for service, workers in (("order", order_workers), ("warehouse", warehouse_workers),
                             ("delivery", delivery_workers)):
        for job_type in workers.handlers.job_types:
            owners.setdefault(job_type, []).append(service)
    return owners


def problems(resources: Resources, handlers: dict[str, list[str]], retries: int | None = None) -> list[str]:
    """Everything wrong with the files themselves (the running versions are checked apart, with the engine's data)."""
    return [*link_problems(resources), *contract_problems(resources), *handler_problems(resources, handlers, retries)]
