"""`fulfil process migrate`: move the running orders of one version of a process to another, by the plans in
bpmn/migrations/, a batch at a time through the process monitor (which checks each order and asks the engine)."""
from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools import monitor
from tools.bootstrap import BPMN_DIR
from tools.stack.config import StackSettings

PLANS_DIR = BPMN_DIR / "migrations"


class PlanError(monitor.MonitorError):
    """A plan file cannot be read as plans: which file, and what is wrong in it."""


def read_plans(directory: Path = PLANS_DIR) -> list[dict]:
    """Every table of every `<process-id>.toml` in `directory`, as the monitor takes plans."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise PlanError(f"no plans in {directory}: write <process-id>.toml there (see bpmn/migrations/)")
    plans = []
    for path in files:
        try:
            tables = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PlanError(f"{path}: {exc}") from exc
        for from_tag, targets in tables.items():
            for to_tag, elements in (targets.items() if isinstance(targets, dict) else [(None, None)]):
                if not isinstance(elements, dict) or not all(
                        isinstance(k, str) and isinstance(v, str) for k, v in elements.items()):
                    raise PlanError(f"{path}: [\"{from_tag}\".\"{to_tag}\"] must be a table of source element id = "
                                    "\"target element id\", under a table per pair of version tags")
                plans.append({"bpmn_process_id": path.stem, "from_tag": from_tag, "to_tag": to_tag,
                              "elements": elements})
    return plans


@dataclass
class Migration:
    """What one run moved, refused and left, and how long each batch took."""

    total: int = 0
    items: list[dict] = field(default_factory=list)
    batch_seconds: list[float] = field(default_factory=list)

    def of(self, outcome: str) -> list[dict]:
        return [i for i in self.items if i["outcome"] == outcome]

    @property
    def refused(self) -> list[dict]:
        """Refused orders, and orders whose root moved while a called instance was refused (mixed versions)."""
        return [i for i in self.items if i["outcome"] == "refused" or i["mixed"]]


def run(settings: StackSettings, process_id: str, from_version: int, to_version: int, plans: list[dict],
        dry_run: bool = False, batch: int = 50, progress: Callable[[str], None] = print) -> Migration:
    """Ask the monitor batch after batch until every running root instance of the version was seen once."""
    done = Migration()
    after: int | None = 0
    while after is not None:
        started = time.monotonic()
        answer = monitor.migrate_batch(settings, {
            "bpmn_process_id": process_id, "from_version": from_version, "to_version": to_version,
            "plans": plans, "dry_run": dry_run, "limit": batch, "after": after})
        done.batch_seconds.append(time.monotonic() - started)
        if after == 0:
            done.total = answer["total"]
        done.items += answer["items"]
        after = answer["next_after"]
        moved = len(done.of("would migrate" if dry_run else "migrated"))
        progress(f"{len(done.items)}/{done.total} seen: {moved} {'would move' if dry_run else 'migrated'}, "
                 f"{len(done.refused)} refused ({done.batch_seconds[-1]:.2f} s)")
    return done


def migrate(settings: StackSettings, args) -> int:
    plans = read_plans(Path(args.plans) if getattr(args, "plans", None) else PLANS_DIR)
    done = run(settings, args.process_id, args.from_version, args.to_version, plans, dry_run=args.dry_run,
               batch=args.batch)
    print(report(done, args.process_id, args.from_version, args.to_version, args.dry_run))
    return 1 if done.refused else 0


def report(done: Migration, process_id: str, from_version: int, to_version: int, dry_run: bool) -> str:
    moved = done.of("would migrate" if dry_run else "migrated")
    children = sum(1 for i in moved for c in i["children"] if c["outcome"] in ("migrated", "would migrate"))
    verb = "would migrate" if dry_run else "migrated"
    lines = [f"{process_id} {from_version} -> {to_version}: {verb} {len(moved)} of {done.total} running "
             f"instance(s), with {children} instance(s) they called"]
    if done.refused:
        lines.append(f"refused {len(done.refused)}:")
    for item in done.refused:
        lines.append(f"  instance {item['key']} (order {item['order_id'] or '-'}): {item['reason']}")
        for child in item["children"]:
            if child["outcome"] != "migrated":
                lines.append(f"    called instance {child['key']} ({child['bpmn_process_id']} version "
                             f"{child['from_version']}) {child['outcome']}: {child['reason']}")
    mixed = [i for i in done.items if i["mixed"]]
    if mixed:
        lines.append(f"{len(mixed)} order(s) now on mixed versions (moved to {to_version}, a called instance "
                     "stayed on its old version): " + ", ".join(str(i["order_id"] or i["key"]) for i in mixed))
    left = done.total if dry_run else done.total - len(moved)
    lines.append(f"left on version {from_version}: {left}" + (" (dry run: nothing was sent to the engine)"
                                                             if dry_run else ""))
    return "\n".join(lines)
