"""Analytics HTTP API: the figures as JSON, as Prometheus metrics for an operator's scraper, and the page."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from services.analytics import figures
from services.analytics.domain import LONGEST_WINDOW
from shared.contracts.roles import OPERATOR
from shared.runtime.auth import PUBLIC, allow
from shared.runtime.db import unit_of_work
from shared.runtime.http import Sessions
from shared.runtime.metrics import AtMostEvery, ReadAtScrape, exposition

router = APIRouter(tags=["analytics"])
# The page and its libraries (package.json: Chart.js), served under shared.runtime.service.WEB_PATH by app.py.
WEB = Path(__file__).with_name("web")


class OrderCounts(BaseModel):
    placed: int
    completed: int
    cancelled: int
    delivery_failed: int
    rejected: int = Field(description="refused by the review rules or rejected by a reviewer")
    open: int = Field(description="placed and not yet completed, cancelled, failed or rejected")


class DurationBin(BaseModel):
    low: float = Field(description="seconds, inclusive")
    high: float = Field(description="seconds, exclusive")
    count: int


class LeadTime(BaseModel):
    count: int = Field(description="orders delivered, of those whose facts are kept (an order that ended more than "
                                   "FULFIL_ANALYTICS_HISTORY_RETENTION_DAYS ago counts in the totals only)")
    p50: float | None = Field(description="seconds from placed to the last delivery; null before any")
    p95: float | None = Field(description="seconds")
    histogram: list[DurationBin] = Field(description="orders per lead-time bin, from the shortest to the longest")


class FillRate(BaseModel):
    fully_reserved: int = Field(description="orders whose first reservation covered every line")
    reserved: int = Field(description="orders reserved at all")
    rate: float | None = Field(description="fully_reserved / reserved, 0..1; null before any reservation")


class OpenBackorders(BaseModel):
    count: int = Field(description="backordered lines still waiting for stock")
    units: int
    oldest_age_seconds: float | None
    age_histogram: list[DurationBin] = Field(description="open backorders per age bin")


class Factory(BaseModel):
    produced_units: int


class OverTime(BaseModel):
    """Every list has one value per bucket, oldest first; the last bucket is the current one, still filling."""

    bucket_seconds: int = Field(description="the width of a bucket")
    bucket_starts: list[datetime] = Field(description="when each bucket begins (UTC)")
    orders_placed: list[int]
    orders_completed: list[int]
    orders_cancelled: list[int]
    orders_delivery_failed: list[int]
    orders_open: list[int] = Field(description="orders open at the end of the bucket (now, for the last)")
    first_pass_fill_rate: list[float | None] = Field(
        description="share of the orders reserved in the bucket that were fully reserved at once, 0..1")
    open_backorders: list[int] = Field(description="backorders open at the end of the bucket")
    factory_units: list[int] = Field(description="units the factory produced in the bucket")
    deadline_breaches: list[int] = Field(description="deliveries redispatched past their deadline in the bucket")


class Figures(BaseModel):
    as_of: datetime = Field(description="when the figures were computed; ages are measured to this moment")
    orders: OrderCounts
    lead_time_seconds: LeadTime
    first_pass_fill_rate: FillRate
    open_backorders: OpenBackorders
    factory: Factory
    delivery_deadline_breaches: int
    over_time: OverTime


@router.get("/figures", response_model=Figures, dependencies=[allow(OPERATOR)])
def get_figures(all_sessions: Sessions,
                minutes: Annotated[int, Query(ge=5, le=LONGEST_WINDOW // timedelta(minutes=1), description=(
                    "how far back `over_time` reaches; its buckets widen with it (1 minute up to an hour, "
                    "at most 60 buckets)"))] = int(figures.DEFAULT_WINDOW.total_seconds()) // 60) -> dict:
    with unit_of_work(all_sessions) as session:
        return figures.compute(session, window=timedelta(minutes=minutes))


def _figures_as_metrics(request: Request) -> AtMostEvery:
    """One per process: however many scrape it, the figures are computed at most once per interval."""
    state = request.app.state
    if getattr(state, "figures_as_metrics", None) is None:
        state.figures_as_metrics = AtMostEvery(ReadAtScrape(state.sessions, figures.metrics),
                                               state.settings.figures_metrics_refresh_seconds)
    return state.figures_as_metrics


@router.get("/figures/metrics", response_class=Response, dependencies=[allow(OPERATOR)], responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "The figures in Prometheus' text format"}})
def figures_as_metrics(request: Request) -> Response:
    """The figures in Prometheus' text format (`fulfil_*`), for a scraper with an operator's token; computed
    again at most every `FULFIL_ANALYTICS_FIGURES_METRICS_REFRESH_SECONDS` (15 s unless set). They are not on the
    open `/metrics`: they are the business's figures, and computing them reads every fact."""
    return exposition(_figures_as_metrics(request))


@router.get("/", response_class=HTMLResponse, dependencies=[PUBLIC])
def page() -> FileResponse:
    """The figures as charts: the page asks `/figures` again every few seconds."""
    return FileResponse(WEB / "index.html", media_type="text/html")
