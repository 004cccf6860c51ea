"""The bench's chart as an SVG written from the figures: throughput, and latency p50/p95/p99, of both sides."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

from tools.bench.results import REFERENCE, SUITE, Phase

COLOURS = {REFERENCE: "#4c78a8", SUITE: "#f58518"}
WIDTH, HEIGHT = 960, 380
PANEL_TOP, PANEL_BOTTOM = 60, 320  # y of each panel's top and of its axis
PANELS = ((70, 440, "completed per second"),
          (560, 930, "seconds to completed, log scale: p50 bar, p95 tick, p99 end"))


class Scale:
    """Maps a value to its height in a panel: linear from 0 (throughput) or by decades (latency, which spans
    tenths of a second in a closed loop to minutes in an overloaded open loop)."""

    def __init__(self, values: list[float], log: bool) -> None:
        positive = [v for v in values if v > 0] or [1.0]
        self.log = log
        if log:
            self.low = 10.0 ** math.floor(math.log10(min(positive)))
            self.high = 10.0 ** math.ceil(math.log10(max(positive) * 1.01))
            self.ticks = [self.low * 10**k for k in range(round(math.log10(self.high / self.low)) + 1)]
        else:
            top = max(positive)
            power = 10 ** math.floor(math.log10(top))
            mantissa = next(step for step in (1, 2, 2.5, 5, 10) if step * power >= top)
            self.low, self.high = 0.0, mantissa * power
            intervals = 5 if mantissa in (2.5, 5) else 4  # round numbers at every line: 0 5 10 … 25, 0 0.5 … 2
            self.ticks = [self.high * step / intervals for step in range(intervals + 1)]

    def y(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        share = (math.log10(value / self.low) / math.log10(self.high / self.low) if self.log
                 else value / self.high)
        return PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * share


def _text(x: float, y: float, content: str, size: int = 12, anchor: str = "middle", **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{escape(content)}</text>")


def _axis(left: float, right: float, title: str, scale: Scale) -> list[str]:
    parts = [_text((left + right) / 2, PANEL_TOP - 20, title, 13, font_weight="bold")]
    for value in scale.ticks:
        y = scale.y(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(_text(left - 6, y + 4, f"{value:g}", 11, "end"))
    return parts


def _groups(phases: list[Phase]) -> list[tuple[str, dict[str, Phase]]]:
    shapes = list(dict.fromkeys(p.shape for p in phases))
    return [(shape.label, {p.side: p for p in phases if p.shape == shape}) for shape in shapes]


def svg(phases: list[Phase]) -> str:
    groups = _groups(phases)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    latencies = [p.latency(q) or 0 for p in phases for q in (50, 95, 99)]
    scales = (Scale([p.throughput for p in phases], log=False), Scale(latencies, log=True))
    for (left, right, title), scale in zip(PANELS, scales, strict=True):
        parts += _axis(left, right, title, scale)
        slot = (right - left) / max(1, len(groups))
        bar = slot / 3
        for index, (label, sides) in enumerate(groups):
            x0 = left + slot * index + bar / 2
            parts.append(_text(x0 + bar, PANEL_BOTTOM + 18, label, 11))
            for offset, side in enumerate((REFERENCE, SUITE)):
                if side in sides:
                    x = x0 + bar * offset
                    parts += (_throughput_bar if left == PANELS[0][0] else _latency_bar)(sides[side], x, bar, scale)
    for offset, side in enumerate((REFERENCE, SUITE)):
        x = WIDTH / 2 - 110 + offset * 130
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{COLOURS[side]}"/>')
        parts.append(_text(x + 18, HEIGHT - 12, side, 12, "start"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _throughput_bar(phase: Phase, x: float, width: float, scale: Scale) -> list[str]:
    y = scale.y(phase.throughput)
    return [f'<rect x="{x:.1f}" y="{y:.1f}" width="{width * 0.9:.1f}" height="{PANEL_BOTTOM - y:.1f}" '
            f'fill="{COLOURS[phase.side]}"/>',
            _text(x + width * 0.45, y - 4, f"{phase.throughput:.1f}", 10)]


def _latency_bar(phase: Phase, x: float, width: float, scale: Scale) -> list[str]:
    p50, p95, p99 = (phase.latency(q) for q in (50, 95, 99))
    if p50 is None:
        return []
    middle = x + width * 0.45
    y50 = scale.y(p50)
    parts = [f'<rect x="{x:.1f}" y="{y50:.1f}" width="{width * 0.9:.1f}" height="{PANEL_BOTTOM - y50:.1f}" '
             f'fill="{COLOURS[phase.side]}"/>',
             _text(middle, PANEL_BOTTOM - 4, f"{p50:.2f}", 10, fill="white")]
    y95, y99 = scale.y(p95), scale.y(p99)
    parts.append(f'<line x1="{middle:.1f}" y1="{y50:.1f}" x2="{middle:.1f}" y2="{y99:.1f}" stroke="#333"/>')
    for y in (y95, y99):
        parts.append(f'<line x1="{middle - 6:.1f}" y1="{y:.1f}" x2="{middle + 6:.1f}" y2="{y:.1f}" stroke="#333"/>')
    parts.append(_text(middle, y99 - 4, f"{p99:.2f}", 10))
    return parts
