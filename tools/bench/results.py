"""The figures of one phase, and of the suite against the reference: plain values, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field

from services.analytics.domain import percentile
from tools.bench.loops import Load

REFERENCE, SUITE = "reference", "suite"


@dataclass(frozen=True)
class Shape:
    """How a phase loads a side: `clients` in a closed loop, or `rate` arrivals per second (open loop)."""

    clients: int | None = None
    rate: float | None = None

    @property
    def label(self) -> str:
        return f"closed {self.clients}" if self.clients else f"open {self.rate:g}/s"


@dataclass
class Phase:
    side: str
    shape: Shape
    duration: float
    load: Load
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # component -> CPU seconds used in the phase
    push_back: dict[str, int] = field(default_factory=dict)  # kind -> times in the phase
    # Order id -> event type -> when it happened: the suite's events on the way to completion.
    milestones: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def started(self) -> int:
        return sum(s.accepted is not None for s in self.load.samples)

    @property
    def completed(self) -> list:
        return [s for s in self.load.samples if s.finish is not None and s.finish.ok]

    @property
    def failed(self) -> int:
        """Started but ended otherwise than completed, or refused for good."""
        return sum((s.finish is not None and not s.finish.ok) or s.error is not None for s in self.load.samples)

    @property
    def unfinished(self) -> int:
        """Not ended when the drain was over, started or still being started (back-pressure)."""
        return sum(s.finish is None and s.error is None for s in self.load.samples)

    @property
    def throughput(self) -> float:
        """Completions per second while the phase was starting work (its drain after that not counted)."""
        return sum(s.finish.at <= self.load.end for s in self.completed) / self.duration

    def latency(self, q: float) -> float | None:
        """Seconds from a start being due to its completion, percentile q."""
        return percentile([s.finish.at - s.due for s in self.completed], q)

    def acceptance(self, q: float) -> float | None:
        """Seconds from a start being due to the side taking it (message published, order accepted)."""
        return percentile([s.accepted - s.due for s in self.load.samples if s.accepted is not None], q)

    def seen_late(self, q: float) -> float | None:
        """Seconds between a completion and the bench learning of it (engine record, Kafka event)."""
        return percentile([s.finish.seen - s.finish.at for s in self.completed], q)

    def stages(self) -> dict[str, tuple[float, float]]:
        """Event type -> (p50, p95) seconds from the start to it, for the events most completed orders had,
        earliest first: where the orders spent their time."""
        since: dict[str, list[float]] = {}
        for sample in self.completed:
            for event_type, at in self.milestones.get(sample.key, {}).items():
                since.setdefault(event_type, []).append(at - sample.due)
        common = {t: values for t, values in since.items() if len(values) * 2 >= len(self.completed)}
        return dict(sorted(((t, (percentile(v, 50), percentile(v, 95))) for t, v in common.items()),
                           key=lambda item: item[1][0]))

    def cpu_ms_per_order(self, component: str) -> float | None:
        done = len(self.completed)
        return 1000 * self.cpu_seconds[component] / done if done and component in self.cpu_seconds else None


@dataclass(frozen=True)
class Ratio:
    """The suite against the reference in one shape: throughput share, p50 multiple."""

    shape: Shape
    throughput: float | None
    p50: float | None


def ratios(phases: list[Phase]) -> list[Ratio]:
    found = []
    for shape in dict.fromkeys(p.shape for p in phases):
        sides = {p.side: p for p in phases if p.shape == shape}
        if REFERENCE in sides and SUITE in sides:
            reference, suite = sides[REFERENCE], sides[SUITE]
            p50s = suite.latency(50), reference.latency(50)
            found.append(Ratio(
                shape,
                throughput=suite.throughput / reference.throughput if reference.throughput else None,
                p50=p50s[0] / p50s[1] if None not in p50s and p50s[1] > 0 else None))
    return found
