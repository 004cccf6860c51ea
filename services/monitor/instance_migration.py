"""Moving running orders to another version of their process: a batch of root instances at a time, each with the
instances it called, checked against the plans before the engine is asked.

A root moves first, its called instances after it: a called instance moved while its root was refused would run
a version the root's deployment never calls. A called instance the engine refuses after its root moved leaves the
order on mixed versions; the report says so for that order, and counts it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Row

from services.monitor import queries
from services.monitor.domain import MigrationPlan, element_ids
from services.monitor.engine import Engine, EngineRefused, EngineUnreachable
from shared.runtime.db import unit_of_work

# The engine's back-pressure ("the request limit is exhausted") is no refusal: the instance is sent again after these.
BUSY_STATUSES = (429, 503)
BUSY_PAUSES_SECONDS = (0.2, 0.5, 1.0)


class MigrationImpossible(Exception):
    """The batch cannot start: a version is not known, or lacks what a migration needs. Says which and why."""


class Outcome(StrEnum):
    MIGRATED = "migrated"
    REFUSED = "refused"
    WOULD_MIGRATE = "would migrate"
    # Not sent: the instance that called it was refused.
    LEFT = "left"


@dataclass
class InstanceOutcome:
    key: int
    bpmn_process_id: str
    order_id: str | None
    from_version: int
    to_version: int | None
    outcome: Outcome
    reason: str | None = None
    children: list[InstanceOutcome] = field(default_factory=list)

    @property
    def mixed(self) -> bool:
        """The root moved and one of its called instances did not: the order runs on two deployments."""
        return self.outcome == Outcome.MIGRATED and any(c.outcome != Outcome.MIGRATED for c in self.children)


@dataclass
class BatchReport:
    # Running root instances of the source version from the cursor on, before this batch.
    total: int
    items: list[InstanceOutcome]
    # The cursor for the next batch; None when this one reached the end.
    next_after: int | None


@dataclass(frozen=True)
class BatchRequest:
    bpmn_process_id: str
    from_version: int
    to_version: int
    plans: list[MigrationPlan]
    dry_run: bool = False
    limit: int = 50
    after: int = 0


@dataclass
class _Move:
    """One instance's target and plan, or why it cannot move."""

    target: Row | None
    plan: MigrationPlan | None
    refusal: str | None


class _Planner:
    """Finds, for an instance's definition, the definition it moves to and the plan it moves by; remembers both."""

    def __init__(self, session, target_root: Row, plans: list[MigrationPlan]) -> None:
        self.session = session
        self.target_root = target_root
        self.plans = {(p.bpmn_process_id, p.from_tag, p.to_tag): p for p in plans}
        self.ids: dict[int, dict[str, str]] = {}
        self.moves: dict[int, _Move] = {}

    def move(self, source: Row) -> _Move:
        if source.key not in self.moves:
            self.moves[source.key] = self._move(source)
        return self.moves[source.key]

    def _move(self, source: Row) -> _Move:
        process = source.bpmn_process_id
        if process == self.target_root.bpmn_process_id:
            target = self.target_root
        else:
            target = queries.definition_in_deployment(self.session, process, self.target_root.deployment_key)
            if target is None:
                return _Move(None, None, f"no {process} was deployed with {self.target_root.bpmn_process_id} "
                                         f"version {self.target_root.version}: its called instances have nowhere "
                                         "to go; deploy bpmn/ as one deployment (`fulfil process deploy`)")
        if not source.version_tag or not target.version_tag:
            untagged = source if not source.version_tag else target
            return _Move(target, None, f"{process} version {untagged.version} has no version tag, so no plan "
                                       "names it: give every process a zeebe:versionTag")
        plan = self.plans.get((process, source.version_tag, target.version_tag))
        if plan is None:
            return _Move(target, None, f"no plan moves {process} from tag {source.version_tag} to tag "
                                       f"{target.version_tag}: add [\"{source.version_tag}\".\"{target.version_tag}\"]"
                                       f" to bpmn/migrations/{process}.toml")
        errors = plan.errors(self._ids(source), self._ids(target))
        if errors:
            return _Move(target, plan, f"the plan for {process} {source.version_tag} -> {target.version_tag} is "
                                       f"wrong for version {source.version} -> {target.version}: {'; '.join(errors)}")
        return _Move(target, plan, None)

    def _ids(self, definition: Row) -> dict[str, str]:
        if definition.key not in self.ids:
            self.ids[definition.key] = element_ids(definition.bpmn_xml, definition.bpmn_process_id)
        return self.ids[definition.key]


def migrate_batch(sessions, engine: Engine, request: BatchRequest) -> BatchReport:
    """The next `limit` running roots of the source version after the cursor, each moved (or, dry, checked) with
    the instances it called."""
    with unit_of_work(sessions) as session:
        source = queries.definition_of_version(session, request.bpmn_process_id, request.from_version)
        target = queries.definition_of_version(session, request.bpmn_process_id, request.to_version)
        for version, found in ((request.from_version, source), (request.to_version, target)):
            if found is None:
                raise MigrationImpossible(f"the monitor knows no version {version} of {request.bpmn_process_id}: "
                                          "see `fulfil process versions`")
        if target.deployment_key is None:
            raise MigrationImpossible(
                f"{request.bpmn_process_id} version {target.version} was projected before the monitor recorded "
                "deployments, so the processes it calls cannot be found: deploy bpmn/ again and migrate to the "
                "new version")
        total, roots = queries.running_roots(session, source.key, request.after, request.limit)
        planner = _Planner(session, target, request.plans)
        definitions: dict[int, Row] = {source.key: source}
        children = queries.running_children(session, [r.key for r in roots]) if roots else []
        for child in children:
            if child.definition_key not in definitions:
                definitions[child.definition_key] = queries.definition(session, child.definition_key)
        active = queries.active_elements(session, [r.key for r in roots] + [c.key for c in children])
        moves = {key: planner.move(definition) for key, definition in definitions.items() if definition is not None}
    called: dict[int, list[Row]] = {}
    for child in children:
        called.setdefault(child.parent_key, []).append(child)
    items = [_migrate_order(engine, root, called.get(root.key, []), moves, active, request.dry_run)
             for root in roots]
    more = total > len(roots)
    return BatchReport(total=total, items=items, next_after=roots[-1].key if roots and more else None)


def _outcome(instance: Row, move: _Move | None, active: list[str]) -> InstanceOutcome:
    """The instance checked against its plan: refused with the reason, or None as the outcome for now."""
    found = InstanceOutcome(key=instance.key, bpmn_process_id=instance.bpmn_process_id, order_id=instance.order_id,
                            from_version=instance.version, to_version=move and move.target and move.target.version,
                            outcome=Outcome.WOULD_MIGRATE)
    if move is None:
        found.outcome, found.reason = Outcome.REFUSED, f"its definition {instance.definition_key} is not projected yet"
    elif move.refusal or move.plan.unmapped(active):
        found.outcome, found.reason = Outcome.REFUSED, move.refusal or move.plan.unmapped(active)
    return found


def _migrate_order(engine: Engine, root: Row, children: list[Row], moves: dict[int, _Move],
                   active: dict[int, list[str]], dry_run: bool) -> InstanceOutcome:
    order = _outcome(root, moves.get(root.definition_key), active[root.key])
    order.children = [_outcome(c, moves.get(c.definition_key), active[c.key]) for c in children]
    refused_child = next((c for c in order.children if c.outcome == Outcome.REFUSED), None)
    if order.outcome == Outcome.WOULD_MIGRATE and refused_child is not None:
        order.outcome = Outcome.REFUSED
        order.reason = f"its called instance {refused_child.key} ({refused_child.bpmn_process_id}) cannot move: " \
                       f"{refused_child.reason}"
    if order.outcome == Outcome.REFUSED:
        for child in order.children:
            if child.outcome != Outcome.REFUSED:
                child.outcome, child.reason = Outcome.LEFT, "not sent: the order's root instance was refused"
        return order
    if dry_run:
        return order
    for instance, outcome in ((root, order), *zip(children, order.children, strict=True)):
        if outcome is not order and order.outcome != Outcome.MIGRATED:
            outcome.outcome, outcome.reason = Outcome.LEFT, "not sent: the order's root instance was refused"
            continue
        move = moves[instance.definition_key]
        try:
            _send(engine, instance.key, move)
        except EngineRefused as exc:
            outcome.outcome, outcome.reason = Outcome.REFUSED, exc.detail
        except EngineUnreachable as exc:
            outcome.outcome, outcome.reason = Outcome.REFUSED, f"{exc}; whether it moved shows on its page soon"
        else:
            outcome.outcome = Outcome.MIGRATED
    if order.mixed:
        order.reason = ("the order now runs on mixed versions: its root moved to version "
                        f"{order.to_version}, a called instance stayed (see its reason)")
    return order


def _send(engine: Engine, instance_key: int, move: _Move) -> None:
    for pause in (*BUSY_PAUSES_SECONDS, None):
        try:
            engine.migrate_instance(instance_key, move.target.key, move.plan.elements)
            return
        except EngineRefused as exc:
            if exc.status not in BUSY_STATUSES or pause is None:
                raise
            time.sleep(pause)
