"""The analytics page in a real browser: figures rounded with their units, charts with titled axes, kept current."""
from __future__ import annotations

import re

from tests.conftest import eventually
from tests.e2e.conftest import place_and_complete
from tools.stack import keycloak

UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
# Each chart's canvas, and what its axis titles must say: what is counted, and in which unit.
TIME = re.compile(r"^time .*\d+ (min|h) buckets$")
AXES = {
    "orders-chart": (TIME, re.compile(r"^orders \(bars: per \d+ (min|h)\)$")),
    "lead-time-chart": (re.compile(r"^lead time \((s|min|h|d)\)$"), re.compile("^orders$")),
    "fill-rate-chart": (TIME, re.compile(r"^fully reserved at once \(%\)$")),
    "backorders-chart": (TIME, re.compile("^open backorders$")),
    "backorder-age-chart": (re.compile(r"^age \((s|min|h|d)\)$"), re.compile("^open backorders$")),
    "factory-chart": (TIME, re.compile(r"^units per \d+ (min|h)$")),
    "breaches-chart": (TIME, re.compile(r"^breaches per \d+ (min|h)$")),
}
WHAT_THE_PAGE_SHOWS = """() => {
  const figure = name => document.querySelector(`[data-figure="${name}"]`).textContent;
  const charts = {};
  for (const canvas of document.querySelectorAll("canvas")) {
    const chart = Chart.getChart(canvas);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    charts[canvas.id] = {
      x: chart.options.scales.x.title, y: chart.options.scales.y.title, labels: chart.data.labels.length,
      values: chart.data.datasets.map(set => set.data), drawn: pixels.some((value, i) => i % 4 === 3 && value > 0),
    };
  }
  return {completed: figure("orders-completed"), p50: figure("lead-time-p50"), p95: figure("lead-time-p95"),
          fill_rate: figure("first-pass-fill-rate"), charts};
}"""


def duration_shown(text: str) -> tuple[float, float]:
    """A duration as the page shows it ("2.2 s", "34 s", "4.5 min"): its seconds, and half its last digit's worth."""
    match = re.fullmatch(r"(\d+)(\.\d)? (s|min|h|d)", text)
    assert match, f"{text!r} is not a duration rounded to at most one decimal, with its unit"
    unit = UNIT_SECONDS[match[3]]
    return float(match[1] + (match[2] or "")) * unit, (0.05 if match[2] else 0.5) * unit


def percent_shown(text: str) -> int:
    match = re.fullmatch(r"(\d+) %", text)
    assert match, f"{text!r} is not a whole percentage with its unit"
    return int(match[1])


def opened(page, service_url, log_in) -> None:
    log_in(page, service_url("analytics"))  # the figures are an operator's
    page.wait_for_selector("#status[data-as-of]")  # the first answer of /figures is on the page


def test_the_page_shows_the_figures_rounded_with_units_and_charts_them_on_titled_axes(
        page, service_url, log_in, analytics_api, order_api, fresh_sku, screenshot):
    # An order of this test's own, delivered: there is a lead time and a fill rate to show.
    place_and_complete(order_api, items=[{"sku": fresh_sku(5), "quantity": 1}])
    eventually(lambda: analytics_api.get("/figures").json()["lead_time_seconds"]["count"],
               what="analytics to see a delivered order")
    opened(page, service_url, log_in)

    def page_agrees_with_the_figures():
        figures = analytics_api.get("/figures").json()
        shows = page.evaluate(WHAT_THE_PAGE_SHOWS)
        lead, fill = figures["lead_time_seconds"], figures["first_pass_fill_rate"]
        p50, half_digit = duration_shown(shows["p50"])
        agrees = (abs(p50 - lead["p50"]) <= half_digit
                  and abs(percent_shown(shows["fill_rate"]) - 100 * fill["rate"]) <= 0.5
                  and shows["completed"] == f"{figures['orders']['completed']:,}"
                  and sum(shows["charts"]["lead-time-chart"]["values"][0]) == lead["count"]
                  and shows["charts"]["orders-chart"]["values"][1] == figures["over_time"]["orders_completed"])
        return agrees and (figures, shows)
    figures, shows = eventually(page_agrees_with_the_figures, timeout=20, what="the page to show /figures")

    duration_shown(shows["p95"])
    assert set(shows["charts"]) == set(AXES)
    for canvas, (x_title, y_title) in AXES.items():
        chart = shows["charts"][canvas]
        assert chart["drawn"], f"{canvas} is blank"
        assert chart["x"]["display"] and x_title.match(chart["x"]["text"]), (canvas, chart["x"])
        assert chart["y"]["display"] and y_title.match(chart["y"]["text"]), (canvas, chart["y"])
        if x_title is TIME:
            assert chart["labels"] == len(figures["over_time"]["bucket_starts"]), canvas
    page.select_option("#window", "15")  # the last quarter of an hour: the charts ask again and redraw at once
    page.wait_for_function("Chart.getChart('orders-chart').data.labels.length === 15", timeout=10_000)
    screenshot(page, "analytics")


def test_the_page_follows_a_newly_completed_order_without_being_reloaded(
        page, service_url, log_in, order_api, fresh_sku):
    opened(page, service_url, log_in)
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    completed = page.locator('[data-figure="orders-completed"]')
    before = int(completed.inner_text().replace(",", ""))
    place_and_complete(order_api, items=[{"sku": fresh_sku(5), "quantity": 1}])
    page.wait_for_function("([element, before]) => Number(element.textContent.replace(/,/g, '')) > before",
                           arg=[completed.element_handle(), before], timeout=30_000)
    assert page.evaluate("window.sameDocument") is True


def test_the_page_logs_in_through_the_realm_and_shows_the_role_it_logged_in_with(page, service_url, log_in):
    opened(page, service_url, log_in)
    assert page.locator("#roles").inner_text() == "operator"


def test_a_customer_logged_in_on_the_page_sees_no_figures(page, service_url, log_in):
    page.expected_problems.append("status of 403 (Forbidden) (http://127.0.0.1:")
    log_in(page, service_url("analytics"), keycloak.CUSTOMER_USERS[0])
    page.wait_for_selector("#status.stale")
    # The service's problem says why: the figures are for operators.
    assert "needs the role operator" in page.locator("#status").inner_text()
