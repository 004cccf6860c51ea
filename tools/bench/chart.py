"""The bench's chart as an SVG written from the figures: throughput, and latency p50/p95/p99, of both sides."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

from tools.bench.results import REFERENCE, SUITE, Phase

COLOURS = {REFERENCE: "#4c78a8", SUITE: "#f58518"}
WIDTH, HEIGHT = 960, 380
PANEL_TOP, PANEL_BOTTOM = 60, 320  # y of each panel's top and of its axis
PANELS = ((70, 440, "completed per second"), (560, 930, "seconds from start to completed: p50 bar, p95 tick, p99 end"))


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _text(x: float, y: float, content: str, size: int = 12, anchor: str = "middle", **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{escape(content)}</text>")


def _axis(left: float, right: float, title: str, top_value: float) -> list[str]:
    parts = [_text((left + right) / 2, PANEL_TOP - 20, title, 13, font_weight="bold")]
    for step in range(5):
        value = top_value * step / 4
        y = PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * step / 4
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
    tops = (_nice_top(max((p.throughput for p in phases), default=0)), _nice_top(max(latencies, default=0)))
    for (left, right, title), top_value in zip(PANELS, tops, strict=True):
        parts += _axis(left, right, title, top_value)
        slot = (right - left) / max(1, len(groups))
        bar = slot / 3
        for index, (label, sides) in enumerate(groups):
            x0 = left + slot * index + bar / 2
            parts.append(_text(x0 + bar, PANEL_BOTTOM + 18, label, 11))
            for offset, side in enumerate((REFERENCE, SUITE)):
                if side in sides:
                    x = x0 + bar * offset
                    parts += (_throughput_bar if left == PANELS[0][0] else _latency_bar)(sides[side], x, bar, top_value)
    for offset, side in enumerate((REFERENCE, SUITE)):
        x = WIDTH / 2 - 110 + offset * 130
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{COLOURS[side]}"/>')
        parts.append(_text(x + 18, HEIGHT - 12, side, 12, "start"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _y(value: float, top_value: float) -> float:
    return PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * min(value, top_value) / top_value


def _throughput_bar(phase: Phase, x: float, width: float, top_value: float) -> list[str]:
    y = _y(phase.throughput, top_value)
    return [f'<rect x="{x:.1f}" y="{y:.1f}" width="{width * 0.9:.1f}" height="{PANEL_BOTTOM - y:.1f}" '
            f'fill="{COLOURS[phase.side]}"/>',
            _text(x + width * 0.45, y - 4, f"{phase.throughput:.1f}", 10)]


def _latency_bar(phase: Phase, x: float, width: float, top_value: float) -> list[str]:
    p50, p95, p99 = (phase.latency(q) for q in (50, 95, 99))
    if p50 is None:
        return []
    middle = x + width * 0.45
    y50 = _y(p50, top_value)
    parts = [f'<rect x="{x:.1f}" y="{y50:.1f}" width="{width * 0.9:.1f}" height="{PANEL_BOTTOM - y50:.1f}" '
             f'fill="{COLOURS[phase.side]}"/>',
             _text(middle, PANEL_BOTTOM - 4, f"{p50:.2f}", 10, fill="white")]
    y95, y99 = _y(p95, top_value), _y(p99, top_value)
    parts.append(f'<line x1="{middle:.1f}" y1="{y50:.1f}" x2="{middle:.1f}" y2="{y99:.1f}" stroke="#333"/>')
    for y in (y95, y99):
        parts.append(f'<line x1="{middle - 6:.1f}" y1="{y:.1f}" x2="{middle + 6:.1f}" y2="{y:.1f}" stroke="#333"/>')
    parts.append(_text(middle, y99 - 4, f"{p99:.2f}", 10))
    return parts
