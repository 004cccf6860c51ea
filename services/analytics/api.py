"""Analytics HTTP API: figures as JSON and as a small web page; `/metrics` serves them too (figures.metrics)."""
from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from runtime.db import unit_of_work
from runtime.http import Sessions
from services.analytics import figures

router = APIRouter(tags=["analytics"])


def _current(all_sessions) -> dict:
    with unit_of_work(all_sessions) as session:
        return figures.compute(session)


@router.get("/figures")
def get_figures(all_sessions: Sessions) -> dict:
    return _current(all_sessions)


def _bars(title: str, series: dict[str, int]) -> str:
    """A bar chart as inline SVG: no script, no external asset."""
    if not series:
        return f"<h2>{html.escape(title)}</h2><p>nothing yet</p>"
    top = max(series.values()) or 1
    width = 24
    bars = "".join(
        f'<rect x="{i * width}" y="{100 - 100 * v / top:.1f}" width="{width - 4}" height="{100 * v / top:.1f}">'
        f"<title>{html.escape(k)}: {v}</title></rect>"
        for i, (k, v) in enumerate(series.items()))
    return (f"<h2>{html.escape(title)}</h2><svg width='{len(series) * width}' height='100' "
            f"style='fill:#2d6ae3'>{bars}</svg>")


@router.get("/", response_class=HTMLResponse)
def page(all_sessions: Sessions) -> str:
    data = _current(all_sessions)
    fill = data["first_pass_fill_rate"]["rate"]
    lead = data["lead_time_seconds"]
    summary = (f"<p>placed {data['orders']['placed']}, completed {data['orders']['completed']}, "
               f"cancelled {data['orders']['cancelled']} · lead time p50 {lead['p50']} s, p95 {lead['p95']} s · "
               f"first-pass fill rate {'n/a' if fill is None else f'{fill:.0%}'} · "
               f"open backorders {data['open_backorders']['count']} · "
               f"deadline breaches {data['delivery_deadline_breaches']}</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Fulfilment analytics</title></head>"
            "<body style='font-family:sans-serif'><h1>Fulfilment analytics</h1>" + summary
            + _bars("Orders placed per minute", data["orders"]["placed_per_minute"])
            + _bars("Orders completed per minute", data["orders"]["completed_per_minute"])
            + _bars("Factory units produced per minute", data["factory"]["produced_units_per_minute"])
            + "</body></html>")
