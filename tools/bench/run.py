"""`make bench`: the suite side by side with the engine's own limit for the same BPMN, in one run.

Each load shape runs on the reference and then on the suite before the next shape starts, so both sides meet
the same machine (and the same neighbours on it). Per phase: the load, then a drain in which nothing new starts
and what was started may still end; CPU seconds of every process of the stack are read before and after.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.bench import report
from tools.bench.loops import Completions, Load, Progress, closed_loop, open_loop
from tools.bench.measure import BENCH, cpu_seconds, dropped_requests, stack_processes
from tools.bench.reference import PREFIX, Reference
from tools.bench.results import Phase, Shape
from tools.bench.suite import Suite
from tools.options import add_options, option, read_options
from tools.stack.config import REPO_ROOT, StackSettings

DOCS = REPO_ROOT / "docs" / "performance.md"


@dataclass(frozen=True)
class Options:
    clients: tuple[int, ...] = (10, 30)
    duration: float = option(30.0, "seconds of each closed-loop phase")
    rate: float = option(15.0, "open-loop arrivals per second")
    open_duration: float = option(300.0, "seconds of the open-loop phase; 0 skips it")
    warmup: float = option(5.0, "seconds of closed loop per side before the first phase, not reported")
    drain: float = option(60.0, "seconds a phase waits for what it started, after it stopped starting")
    progress_every: float = 10.0
    docs: Path | None = DOCS

    def describe(self) -> str:
        return (f"closed loop with {', '.join(map(str, self.clients))} clients for {self.duration:g} s each; "
                f"open loop at {self.rate:g}/s for {self.open_duration:g} s; {self.warmup:g} s warm-up per side; "
                f"courier delay 0 s")


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m tools.stack bench", description=__doc__)
    defaults = Options()
    parser.add_argument("--clients", default=",".join(map(str, defaults.clients)),
                        help="closed-loop client counts, comma-separated (default %(default)s)")
    add_options(parser, Options)
    parser.add_argument("--docs", type=Path, default=defaults.docs,
                        help="the Markdown file whose generated section gets the results (default docs/performance.md)")
    parser.add_argument("--no-docs", action="store_true", help="print the results only")
    args = parser.parse_args(argv)
    clients = tuple(int(c) for c in args.clients.split(",") if c.strip())
    if not clients or min(clients) < 1 or args.rate <= 0:
        parser.error("--clients needs positive counts and --rate a positive rate")
    return read_options(args, Options, clients=clients, progress_every=min(10.0, max(2.0, args.duration / 3)),
                        docs=None if args.no_docs else args.docs)


def run(settings: StackSettings, options: Options, say: Callable[[str], None] = print) -> int:
    """Bench the running stack, print the figures and write them to the docs; 0 when every phase ran."""
    machine = report.Machine.here()
    phases, cancelled = asyncio.run(_measure(settings, options, say))
    report.console(phases, say)
    if cancelled:
        say(f"\n{len(cancelled)} reference instance(s) had not ended when their phase was over and were cancelled, "
            f"e.g. {cancelled[0]}")
    if options.docs is not None:
        chart = report.write_docs(options.docs, phases, machine, options.describe())
        say(f"\nwrote {options.docs} and {chart}")
    return 0


async def _measure(settings: StackSettings, options: Options, say: Callable[[str], None]) -> tuple[list, list]:
    run_id = uuid.uuid4().hex[:8]
    reference, suite = Reference(settings, run_id), Suite(settings, run_id)
    sides = (reference, suite)
    shapes = [Shape(clients=c) for c in options.clients]
    if options.open_duration > 0:
        shapes.append(Shape(rate=options.rate))
    numbers = itertools.count(1)
    phases: list[Phase] = []
    cancelled: list[str] = []
    say(f">> bench {run_id}: reference = the project's BPMN renamed {PREFIX}*, answered by no-op workers; "
        f"suite = orders over HTTP; {options.describe()}")
    try:
        await reference.open()
        earlier = await suite.open()
        if earlier:
            say(f"   {earlier} orders of earlier bench runs are still open: they will weigh on this run's figures")
        if options.warmup > 0:
            for side in sides:
                await suite.settle(options.drain, say)
                await _phase(settings, side, Shape(clients=options.clients[0]), options.warmup, options, numbers,
                             say, label="warm-up")
        for shape in shapes:
            duration = options.open_duration if shape.rate else options.duration
            for side in sides:
                await suite.settle(options.drain, say)  # what the last phase left moving would weigh on this one
                phases.append(await _phase(settings, side, shape, duration, options, numbers, say))
    finally:
        cancelled = await reference.close()
        await suite.close()
    return phases, cancelled


async def _phase(settings: StackSettings, side: Reference | Suite, shape: Shape, duration: float, options: Options,
                 numbers: itertools.count, say: Callable[[str], None], label: str | None = None) -> Phase:
    label = f"{side.name} {label or shape.label}"
    say(f">> {label} for {duration:g} s")
    completions = Completions(asyncio.get_running_loop())
    await side.begin(completions)
    roots = {**stack_processes(settings), BENCH: os.getpid()}
    counters_before, dropped_before, cpu_before = side.counters(), dropped_requests(settings), cpu_seconds(roots)

    def progress(load: Load) -> Progress:
        return Progress(label, load, duration, options.progress_every, say)

    try:
        if shape.clients:
            load = await closed_loop(side, completions, shape.clients, duration, options.drain, numbers, progress)
        else:
            load = await open_loop(side, completions, shape.rate, duration, options.drain, numbers, progress)
    finally:
        cpu_after, dropped_after = cpu_seconds(roots), dropped_requests(settings)
        milestones = await side.end()
    push_back = {kind: count - counters_before[kind] for kind, count in side.counters().items()}
    if None not in (dropped_before, dropped_after):
        push_back = {"engine dropped": int(dropped_after - dropped_before), **push_back}
    phase = Phase(side.name, shape, duration, load,
                  cpu_seconds={name: cpu_after[name] - cpu_before[name] for name in roots if name in cpu_after},
                  push_back=push_back, milestones=milestones)
    say(f"   {label}: {len(phase.completed)} completed, {phase.throughput:.1f}/s, "
        f"p50 {report.seconds(phase.latency(50))} s, {phase.unfinished} unfinished")
    return phase
