// The analytics page: asks /figures every few seconds and redraws the tiles and charts in place.
"use strict";

const REFRESH_SECONDS = 5;
const COLOURS = {placed: "#2d6ae3", completed: "#2e9e5b", cancelled: "#9a9a9a", failed: "#d64545",
                 open: "#e39b2d", rate: "#2e9e5b", backorders: "#e39b2d", factory: "#7a4fd6", breaches: "#d64545"};

// ---- figures as people read them: few digits, always with a unit ----

function decimals(value) {
  return Math.abs(value) < 10 ? 1 : 0;
}

function number(value, digits = 0) {
  return value.toLocaleString(undefined, {maximumFractionDigits: digits});
}

const UNITS = [{name: "d", size: 86400}, {name: "h", size: 3600}, {name: "min", size: 60}, {name: "s", size: 1}];

// The unit a duration reads best in: the largest of which it is two or more (so 90 s, not 1.5 min), else seconds.
function durationUnit(seconds) {
  return UNITS.find(unit => seconds >= 2 * unit.size) || UNITS[UNITS.length - 1];
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const unit = durationUnit(seconds);
  const value = seconds / unit.size;
  return `${number(value, decimals(value))} ${unit.name}`;
}

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${number(rate * 100)} %`;
}

function bucketName(seconds) {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds / 60} min`;
}

// Clock times in the reader's time zone; with the day when the charts reach back further than a day.
function clockLabels(starts, windowMinutes) {
  const format = new Intl.DateTimeFormat(undefined, windowMinutes > 1440
    ? {weekday: "short", hour: "2-digit", minute: "2-digit"} : {hour: "2-digit", minute: "2-digit"});
  return starts.map(start => format.format(new Date(start)));
}

// Histogram bins as "low–high" in the largest unit their width is a whole number of (the service picks round
// widths: 0.2 s, 5 s, 10 min, 2 h), e.g. "3.4–3.6" or "10–20" with the axis titled "(s)" or "(min)".
function binLabels(bins) {
  const width = bins.length ? bins[0].high - bins[0].low : 1;
  const unit = UNITS.find(candidate => width >= candidate.size) || UNITS[UNITS.length - 1];
  const digits = width < 1 ? 1 : 0;
  const edge = seconds => (seconds / unit.size).toLocaleString(undefined,
    {minimumFractionDigits: digits, maximumFractionDigits: digits});
  return {unit: unit.name, labels: bins.map(bin => `${edge(bin.low)}–${edge(bin.high)}`)};
}

// ---- charts: created once, their data and axis titles replaced on every answer ----

function axis(title, extra = {}) {
  return {title: {display: true, text: title}, beginAtZero: true, ...extra};
}

function chart(id, type, datasets, yTitle, yExtra = {}) {
  return new Chart(document.getElementById(id), {
    type,
    data: {labels: [], datasets},
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: {mode: "index", intersect: false},
      plugins: {legend: {display: datasets.length > 1}},
      scales: {x: axis("time", {ticks: {maxRotation: 0, autoSkipPadding: 12}}),
               y: axis(yTitle, {ticks: {precision: 0}, ...yExtra})},
    },
  });
}

function series(label, colour, extra = {}) {
  return {label, data: [], backgroundColor: colour, borderColor: colour, ...extra};
}

const charts = {
  orders: chart("orders-chart", "bar", [
    series("placed", COLOURS.placed),
    series("completed", COLOURS.completed),
    series("cancelled", COLOURS.cancelled),
    series("delivery failed", COLOURS.failed),
    series("open", COLOURS.open, {type: "line", pointRadius: 0, borderWidth: 2}),
  ], "orders"),
  leadTime: chart("lead-time-chart", "bar", [series("orders", COLOURS.placed)], "orders"),
  fillRate: chart("fill-rate-chart", "line", [series("fully reserved at once", COLOURS.rate, {spanGaps: true, pointRadius: 3})],
    "fully reserved at once (%)",
    {max: 100, ticks: {callback: value => `${value} %`}}),
  backorders: chart("backorders-chart", "line", [series("open backorders", COLOURS.backorders,
    {stepped: true, pointRadius: 0, fill: true, backgroundColor: "rgba(227, 155, 45, 0.2)"})], "open backorders"),
  backorderAge: chart("backorder-age-chart", "bar", [series("backorders", COLOURS.backorders)], "open backorders"),
  factory: chart("factory-chart", "bar", [series("units", COLOURS.factory)], "units"),
  breaches: chart("breaches-chart", "bar", [series("breaches", COLOURS.breaches)], "breaches"),
};
charts.fillRate.options.plugins.tooltip = {callbacks: {label: item => `${item.dataset.label}: ${percent(item.raw / 100)}`}};

function redraw(target, labels, values, xTitle, yTitle) {
  target.data.labels = labels;
  values.forEach((data, i) => { target.data.datasets[i].data = data; });
  target.options.scales.x.title.text = xTitle;
  if (yTitle) target.options.scales.y.title.text = yTitle;
  target.update();
}

// ---- one answer of /figures onto the page ----

function show(id, text) {
  document.querySelectorAll(`[data-figure="${id}"]`).forEach(element => { element.textContent = text; });
}

function render(figures, windowMinutes) {
  const orders = figures.orders, lead = figures.lead_time_seconds, fill = figures.first_pass_fill_rate;
  const backorders = figures.open_backorders, time = figures.over_time;
  show("orders-placed", number(orders.placed));
  show("orders-completed", number(orders.completed));
  show("orders-open", number(orders.open));
  show("orders-cancelled", `${number(orders.cancelled)} / ${number(orders.delivery_failed)}`);
  show("lead-time-p50", duration(lead.p50));
  show("lead-time-p95", duration(lead.p95));
  show("lead-time-count", `${number(lead.count)} orders delivered`);
  show("first-pass-fill-rate", percent(fill.rate));
  show("fully-reserved", `${number(fill.fully_reserved)} of ${number(fill.reserved)} orders`);
  show("open-backorders", number(backorders.count));
  show("oldest-backorder", duration(backorders.oldest_age_seconds));
  show("backorder-units", `${number(backorders.units)} units waiting`);
  show("factory-units", number(figures.factory.produced_units));
  show("deadline-breaches", number(figures.delivery_deadline_breaches));

  const bucket = bucketName(time.bucket_seconds);
  const clock = clockLabels(time.bucket_starts, windowMinutes);
  const timeTitle = `time (your clock), ${bucket} buckets`;
  redraw(charts.orders, clock, [time.orders_placed, time.orders_completed, time.orders_cancelled,
    time.orders_delivery_failed, time.orders_open], timeTitle, `orders (bars: per ${bucket})`);
  redraw(charts.fillRate, clock, [time.first_pass_fill_rate.map(rate => rate === null ? null : rate * 100)],
    timeTitle);
  redraw(charts.backorders, clock, [time.open_backorders], timeTitle);
  redraw(charts.factory, clock, [time.factory_units], timeTitle, `units per ${bucket}`);
  redraw(charts.breaches, clock, [time.deadline_breaches], timeTitle, `breaches per ${bucket}`);
  const leadBins = binLabels(lead.histogram);
  redraw(charts.leadTime, leadBins.labels, [lead.histogram.map(bin => bin.count)],
    `lead time (${leadBins.unit})`);
  const ageBins = binLabels(backorders.age_histogram);
  redraw(charts.backorderAge, ageBins.labels, [backorders.age_histogram.map(bin => bin.count)],
    `age (${ageBins.unit})`);
}

// ---- polling: the page keeps itself current, and says when it last managed to ----

const windowChoice = document.getElementById("window");
const status = document.getElementById("status");
let timer = null;
let latest = 0;  // the newest request: an older one answering late (another window was chosen since) is dropped

// An error answer is an RFC 9457 problem whose detail says why; a proxy's page or an empty answer has only a status.
async function refusalOf(response) {
  const json = (response.headers.get("content-type") || "").includes("json");
  const problem = json ? await response.json().catch(() => null) : null;
  return (problem && problem.detail) || `the service answered ${response.status}`;
}

async function refresh() {
  clearTimeout(timer);
  const asked = ++latest;
  const windowMinutes = Number(windowChoice.value);
  try {
    const response = await authorizedFetch(`figures?minutes=${windowMinutes}`, {cache: "no-store"});
    if (!response.ok) throw new Error(await refusalOf(response));
    const figures = await response.json();
    if (asked !== latest) return;
    render(figures, windowMinutes);
    status.textContent = `Updated ${new Date(figures.as_of).toLocaleTimeString()}; refreshes every ${REFRESH_SECONDS} s`;
    status.dataset.asOf = figures.as_of;
    status.classList.remove("stale");
  } catch (error) {
    if (asked !== latest) return;
    status.textContent = `Could not read the figures (${error.message}); trying again in ${REFRESH_SECONDS} s`;
    status.classList.add("stale");
  }
  timer = setTimeout(refresh, REFRESH_SECONDS * 1000);
}

// The figures are an operator's: the page asks for them once login.js has logged the browser in.
function start(event) {
  if (event) document.getElementById("roles").textContent = event.detail.roles;
  windowChoice.addEventListener("change", refresh);
  refresh();
}
if (window.authorizedFetch) start(); else window.addEventListener("logged-in", start, {once: true});
