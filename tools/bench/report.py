"""The bench's figures as text: a table per concern on the terminal, the same in docs/performance.md."""
from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tools.bench.chart import svg
from tools.bench.measure import BENCH
from tools.bench.results import SUITE, Phase, Ratio, ratios
from tools.stack.config import CAMUNDA_VERSION

# docs/performance.md: a rerun replaces what lies between these two lines and nothing else.
BEGIN = "<!-- `make bench` writes everything from here to the end marker; edit above it -->"
END = "<!-- end of what `make bench` writes -->"

# From the project's performance issue; reported, never asserted.
SHARE_OF_REFERENCE = 0.70
P50_MULTIPLE = 2.0
OPEN_LOOP = (15.0, 300.0, 3.0)  # arrivals per second, seconds, p99 limit in seconds
ORDER_CPU_MS_BEFORE = 43.0


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    system: str
    python: str
    load_before: float

    @classmethod
    def here(cls) -> Machine:
        cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
                   platform.processor() or "unknown CPU")
        memory_kib = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), 0)
        release = dict(line.split("=", 1) for line in _lines("/etc/os-release") if "=" in line)
        system = f"{release.get('PRETTY_NAME', platform.system()).strip(chr(34))}, kernel {platform.release()}"
        return cls(cpu=cpu, cores=os.cpu_count() or 0, memory_gib=memory_kib / 2**20, system=system,
                   python=platform.python_version(), load_before=os.getloadavg()[0])

    def describe(self) -> str:
        return (f"{self.cpu}, {self.cores} cores, {self.memory_gib:.0f} GiB RAM; {self.system}; Python {self.python}; "
                f"Camunda {CAMUNDA_VERSION}; load average {self.load_before:.1f} when the run began")


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def seconds(value: float | None) -> str:
    """A duration for a table: two decimals, or a dash when there is none."""
    return "-" if value is None else f"{value:.2f}"


def _number(value: float | None, form: str = "{:.1f}") -> str:
    return "-" if value is None else form.format(value)


def _ratio_rows(ratio: Ratio) -> list[str]:
    share = _number(ratio.throughput and 100 * ratio.throughput, "{:.0f} %")
    multiple = _number(ratio.p50, "{:.2f}×")
    return [ratio.shape.label, "suite / reference", "", "", share, multiple, "", "", "", "", "", ""]


def figures_table(phases: list[Phase]) -> tuple[list[str], list[list[str]]]:
    header = ["phase", "side", "started", "completed", "per s", "p50 s", "p95 s", "p99 s", "accepted p50 s",
              "seen after p50 s", "unfinished", "push-back"]
    rows = []
    by_shape = {r.shape: r for r in ratios(phases)}
    for shape in dict.fromkeys(p.shape for p in phases):
        for phase in (p for p in phases if p.shape == shape):
            push_back = ", ".join(f"{kind} {n}" for kind, n in phase.push_back.items() if n) or "none"
            rows.append([shape.label, phase.side, str(phase.started), str(len(phase.completed)),
                         f"{phase.throughput:.1f}", *(seconds(phase.latency(q)) for q in (50, 95, 99)),
                         seconds(phase.acceptance(50)), seconds(phase.seen_late(50)),
                         str(phase.unfinished + phase.failed), push_back])
        if shape in by_shape:
            rows.append(_ratio_rows(by_shape[shape]))
    return header, rows


def cpu_table(phases: list[Phase]) -> tuple[list[str], list[list[str]]]:
    components = list(dict.fromkeys(c for p in phases for c in p.cpu_seconds))
    components = [c for c in components if c != BENCH] + [BENCH]
    header = ["phase", "side", *components]
    rows = [[p.shape.label, p.side, *(_number(p.cpu_ms_per_order(c)) for c in components)] for p in phases]
    return header, rows


def stages_table(phases: list[Phase]) -> tuple[list[str], list[list[str]]]:
    """Seconds from placing a suite order to each event on its way (p50 / p95), one row per suite phase."""
    suite = [p for p in phases if p.side == SUITE]
    kinds = list(dict.fromkeys(kind for p in suite for kind in p.stages()))
    header = ["phase", *(kind.removeprefix("fulfilment.").removesuffix(".v1") for kind in kinds)]
    rows = []
    for phase in suite:
        stages = phase.stages()
        rows.append([phase.shape.label, *(f"{stages[k][0]:.2f} / {stages[k][1]:.2f}" if k in stages else "-"
                                           for k in kinds)])
    return header, rows


def targets(phases: list[Phase]) -> list[str]:
    """Each target of the performance issue with what this run measured against it."""
    lines = []
    for ratio in ratios(phases):
        if ratio.shape.clients in (10, 30) and ratio.throughput is not None:
            lines.append(f"suite throughput ≥ {SHARE_OF_REFERENCE:.0%} of the reference at {ratio.shape.clients} "
                         f"clients: {ratio.throughput:.0%} — {_met(ratio.throughput >= SHARE_OF_REFERENCE)}")
        if ratio.shape.clients == 10 and ratio.p50 is not None:
            lines.append(f"suite p50 ≤ {P50_MULTIPLE:g}× the reference p50 at 10 clients: {ratio.p50:.2f}× — "
                         f"{_met(ratio.p50 <= P50_MULTIPLE)}")
    rate, duration, p99_limit = OPEN_LOOP
    for phase in (p for p in phases if p.side == SUITE and p.shape.rate):
        p99 = phase.latency(99)
        left = phase.unfinished + phase.failed
        ran = f"{phase.shape.rate:g}/s for {phase.duration:.0f} s"
        met = (phase.shape.rate >= rate and phase.duration >= duration and p99 is not None and p99 < p99_limit
               and left == 0)
        lines.append(f"open loop {rate:g}/s for {duration:.0f} s, p99 < {p99_limit:g} s, nothing left behind "
                     f"(ran {ran}): p99 {seconds(p99)} s, {left} left — {_met(met)}")
    suite = [p for p in phases if p.side == SUITE and "order" in p.cpu_seconds]
    done = sum(len(p.completed) for p in suite)
    if done:
        per_order = 1000 * sum(p.cpu_seconds["order"] for p in suite) / done
        limit = ORDER_CPU_MS_BEFORE / 2
        lines.append(f"Order service CPU per order ≤ {limit:g} ms (half of {ORDER_CPU_MS_BEFORE:g}): "
                     f"{per_order:.1f} ms over all suite phases — {_met(per_order <= limit)}")
    return lines


def _met(yes: bool) -> str:
    return "met" if yes else "NOT met"


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(row) + " |" for row in [header, ["---"] * len(header), *rows])


def console(phases: list[Phase], say: Callable[[str], None] = print) -> None:
    say("\n" + text_table(*figures_table(phases)))
    say("\nsuite: seconds from placing an order to each of its events, p50 / p95\n" + text_table(*stages_table(phases)))
    say("\nCPU milliseconds per completed order, by process (with its children)\n" + text_table(*cpu_table(phases)))
    say("\ntargets (reported, not asserted):\n" + "\n".join(f"  {line}" for line in targets(phases)))


def section(phases: list[Phase], machine: Machine, options: str, chart: str) -> str:
    """The generated part of docs/performance.md."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n\n".join([
        BEGIN,
        "## Latest run",
        f"{when} on {machine.describe()}.\n\nRun: {options}.",
        markdown_table(*figures_table(phases)),
        "Suite: seconds from placing an order to each of its events, p50 / p95:",
        markdown_table(*stages_table(phases)),
        "CPU milliseconds per completed order, by process (with its children):",
        markdown_table(*cpu_table(phases)),
        "Targets (reported, not asserted):\n\n" + "\n".join(f"- {line}" for line in targets(phases)),
        f"![Throughput and latency of both sides]({chart})",
        END,
    ]) + "\n"


def write_docs(path: Path, phases: list[Phase], machine: Machine, options: str) -> Path:
    """Replace the generated section of `path` (appended if it has none) and write its chart; returns the chart."""
    chart = path.parent / "images" / f"{path.stem}.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(svg(phases))
    generated = section(phases, machine, options, chart.relative_to(path.parent).as_posix())
    text = path.read_text() if path.is_file() else "# Performance\n\n"
    if BEGIN in text and END in text:
        before, _, rest = text.partition(BEGIN)
        text = before + generated.rstrip("\n") + rest.partition(END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + generated
    path.write_text(text)
    return chart
