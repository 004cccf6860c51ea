// The process monitor's page: hash routes over the service's own JSON API; diagrams with bpmn-js.
"use strict";

const view = document.getElementById("view");
const message = document.getElementById("message");
const PAGE_SIZE = 50;
// Who is logged in (login.js): a task they claimed shows a release button, and only theirs can be completed.
let me = { username: null, groups: [] };

// --- small helpers --------------------------------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

async function api(path, options) {
  const response = await window.authorizedFetch(path, options);
  const body = response.status === 204 ? null
    : (response.headers.get("content-type") || "").includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error((body && body.detail) || `${response.status} ${response.statusText}`);
  return body;
}

function say(text, isError) {
  message.textContent = text;
  message.className = isError ? "error" : "";
}

function when(iso) {
  // A due date the engine computed with FEEL's now() ends in its zone's id, e.g. "...Z[Etc/UTC]".
  return iso ? new Date(iso.replace(/\[.*\]$/, "")).toLocaleString() : "";
}

function state(value) {
  return h("span", { class: `state-${value}` }, value);
}

function instanceLink(key) {
  return h("a", { href: `#/instances/${key}`, "data-testid": "instance-link" }, String(key));
}

function facts(pairs) {
  return h("div", { class: "facts" }, pairs.map(([label, value]) => [h("span", {}, label), h("span", {}, value)]));
}

function table(headings, rows) {
  return h("table", {}, h("tr", {}, headings.map((title) => h("th", {}, title))), rows);
}

function pager(total, offset, go) {
  const last = Math.min(offset + PAGE_SIZE, total);
  return h("div", { class: "pager" },
    h("button", { disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE_SIZE)) }, "newer"),
    `${total ? offset + 1 : 0}–${last} of ${total}`,
    h("button", { disabled: last >= total, onclick: () => go(offset + PAGE_SIZE) }, "older"));
}

// Something the engine is asked to do: the monitor shows the outcome when the engine's records arrive.
async function act(what, path, body, method = "POST") {
  try {
    const answer = await api(path, { method, headers: { "Content-Type": "application/json" },
                                     body: method === "DELETE" ? undefined : JSON.stringify(body || {}) });
    say(`${what}: ${answer.detail}`);
    setTimeout(route, 1000);
  } catch (error) {
    say(`${what} failed: ${error.message}`, true);
  }
}

// --- the diagram ----------------------------------------------------------------------------------------------

async function diagram(definitionKey, decorate) {
  const container = h("div", { class: "diagram", "data-testid": "diagram" });
  view.append(container);
  const viewer = new BpmnJS({ container });
  try {
    await viewer.importXML(await api(`/definitions/${definitionKey}/xml`));
  } catch (error) {
    container.replaceChildren(h("p", {}, `no diagram (${error.message}): the definition's record may not ` +
                                         "have arrived yet"));
    return;
  }
  viewer.get("canvas").zoom("fit-viewport");
  const registry = viewer.get("elementRegistry");
  const known = (id) => registry.get(id) !== undefined;
  decorate({
    mark: (id, marker) => known(id) && viewer.get("canvas").addMarker(id, marker),
    badge: (id, kind, text, where) => known(id) && viewer.get("overlays").add(id, {
      position: where || { bottom: 8, right: 8 },
      html: h("span", { class: `badge ${kind}`, "data-testid": `badge-${kind}-${id}` }, text),
    }),
  });
}

// --- pages ----------------------------------------------------------------------------------------------------

async function home() {
  const definitions = await api("/definitions");
  view.append(h("h2", {}, "Processes"), table(["process", "version", "active instances", "open incidents",
                                                "deployed"],
    definitions.map((d) => h("tr", {},
      h("td", {}, h("a", { href: `#/definitions/${d.key}` }, d.name || d.bpmn_process_id)),
      h("td", {}, d.version_tag ? `${d.version} (${d.version_tag})` : d.version), h("td", {}, d.active_instances),
      h("td", { class: d.open_incidents ? "incident" : "" }, d.open_incidents), h("td", {}, when(d.deployed_at))))));
  await instanceList({ state: "ACTIVE" }, "Active instances");
}

async function definitionPage(key) {
  const [definitions, statistics] = await Promise.all([api("/definitions"), api(`/definitions/${key}/statistics`)]);
  const definition = definitions.find((d) => String(d.key) === key);
  view.append(h("h2", {}, definition ? `${definition.name || definition.bpmn_process_id} · version ` +
                                       `${definition.version}` : `definition ${key}`));
  await diagram(key, ({ mark, badge }) => {
    for (const element of statistics) {
      if (element.active) badge(element.element_id, "active", element.active);
      if (element.incidents) {
        mark(element.element_id, "failing");
        badge(element.element_id, "incidents", element.incidents, { top: -8, right: 8 });
      }
    }
  });
  await instanceList({ definition_key: key, state: "ACTIVE" }, "Its active instances");
}

function filtersFrom(hashQuery) {
  const query = new URLSearchParams(hashQuery);
  return Object.fromEntries([...query.entries()].filter(([, value]) => value !== ""));
}

async function instanceList(filters, title) {
  const offset = Number(filters.offset || 0);
  const query = new URLSearchParams({ ...filters, limit: PAGE_SIZE, offset });
  const page = await api(`/instances?${query}`);
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    // Filters the form does not show (the definition of a definition's page) stay as they are.
    const kept = Object.fromEntries(["definition_key", "bpmn_process_id"].filter((name) => filters[name])
                                      .map((name) => [name, filters[name]]));
    const chosen = { ...kept, ...Object.fromEntries([...new FormData(event.target).entries()]
                                                      .filter(([, v]) => v !== "")) };
    for (const name of ["started_from", "started_to"]) {
      if (chosen[name]) chosen[name] = new Date(chosen[name]).toISOString();
    }
    location.hash = `#/instances?${new URLSearchParams(chosen)}`;
  } },
    h("label", {}, "state", h("select", { name: "state" }, ["", "ACTIVE", "COMPLETED", "TERMINATED"].map(
      (s) => h("option", { value: s, selected: filters.state === s }, s || "any")))),
    h("label", {}, "order id", h("input", { name: "order_id", value: filters.order_id || "", size: 36,
                                            "data-testid": "filter-order" })),
    h("label", {}, "incident", h("select", { name: "incident" }, [["", "any"], ["true", "with"], ["false", "without"]]
      .map(([v, label]) => h("option", { value: v, selected: filters.incident === v }, label)))),
    h("label", {}, "started from", h("input", { name: "started_from", type: "datetime-local" })),
    h("label", {}, "started before", h("input", { name: "started_to", type: "datetime-local" })),
    h("button", { type: "submit" }, "filter"));
  const rows = page.items.map((i) => h("tr", { "data-testid": "instance-row" },
    h("td", {}, instanceLink(i.key)), h("td", {}, `${i.bpmn_process_id} v${i.version}`), h("td", {}, state(i.state)),
    h("td", {}, i.order_id ? h("a", { href: `#/instances?order_id=${encodeURIComponent(i.order_id)}` }, i.order_id)
                           : ""),
    h("td", { class: i.open_incidents ? "incident" : "" }, i.open_incidents || ""),
    h("td", {}, when(i.started_at)), h("td", {}, when(i.ended_at))));
  view.append(h("h2", {}, title || "Instances"), form,
              table(["instance", "process", "state", "order", "incidents", "started", "ended"], rows),
              pager(page.total, offset, (next) => {
                location.hash = `#/instances?${new URLSearchParams({ ...filters, offset: next })}`;
              }));
}

function incidentRow(incident) {
  return h("tr", { "data-testid": "incident-row" },
    h("td", {}, instanceLink(incident.instance_key)), h("td", {}, incident.order_id || ""),
    h("td", {}, incident.element_id), h("td", {}, incident.error_type),
    h("td", { class: "value" }, incident.message), h("td", {}, when(incident.created_at)),
    h("td", {}, incident.state === "ACTIVE"
      ? h("button", { "data-testid": "retry", onclick: () => act(`retry of incident ${incident.key}`,
                                                                 `/incidents/${incident.key}/retry`) }, "retry")
      : state(incident.state)));
}

const INCIDENT_HEADINGS = ["instance", "order", "element", "type", "message", "since", ""];

// The form: its choice as radio buttons, its text fields (a review's note) as inputs, and a complete button.
function taskForm(task) {
  const name = `choice-${task.key}`;
  return h("form", { class: "task-form", "data-testid": "task-form", onsubmit: (event) => {
    event.preventDefault();
    const given = new FormData(event.target);
    const choice = given.get(name);
    if (!choice) return say("choose one first", true);
    const variables = { [task.form.variable]: choice };
    for (const text of task.form.texts) variables[text.variable] = given.get(`text-${text.variable}`) || "";
    act(`completion of task ${task.key}`, `/user-tasks/${task.key}/completion`, { variables });
  } },
    task.form.choices.map((c) => h("label", {}, h("input", { type: "radio", name, value: c.value }), c.label)),
    task.form.texts.map((t) => h("label", {}, `${t.label}${t.required ? "" : " (optional)"} `,
      h("input", { type: "text", name: `text-${t.variable}`, required: t.required, maxlength: 500,
                   "data-testid": `text-${t.variable}` }))),
    h("button", { type: "submit", "data-testid": "complete" }, "complete"));
}

// Claim an unclaimed task; release one's own. The monitor refuses anyone outside the task's candidates.
function claimButton(task) {
  if (task.state !== "CREATED") return null;
  if (!task.assignee) {
    return h("button", { type: "button", "data-testid": "claim",
                         onclick: () => act(`claim of task ${task.key}`, `/user-tasks/${task.key}/assignment`) },
             "claim");
  }
  if (task.assignee === me.username) {
    return h("button", { type: "button", "data-testid": "release",
                         onclick: () => act(`release of task ${task.key}`, `/user-tasks/${task.key}/assignment`,
                                            null, "DELETE") }, "release");
  }
  return null;
}

function taskRow(task) {
  let action = state(task.state);
  if (task.state === "CREATED" && task.assignee && task.assignee !== me.username) {
    action = `claimed by ${task.assignee}: only they complete it`;
  } else if (task.state === "CREATED" && task.form) {
    action = taskForm(task);
  } else if (task.state === "CREATED") {
    action = "form not known yet";
  }
  const who = [...task.candidate_groups.map((g) => `group ${g}`), ...task.candidate_users.map((u) => `user ${u}`)];
  return h("tr", { "data-testid": "task-row" },
    h("td", {}, instanceLink(task.instance_key)), h("td", {}, task.order_id || ""), h("td", {}, task.element_id),
    h("td", {}, who.join(", ") || "operators"),
    h("td", { "data-testid": "assignee" }, task.assignee || "", " ", claimButton(task)),
    h("td", {}, when(task.created_at)), h("td", { "data-testid": "due" }, when(task.due_date)), h("td", {}, action));
}

const TASK_HEADINGS = ["instance", "order", "task", "who may do it", "claimed by", "since", "due", ""];

async function instancePage(key) {
  const i = await api(`/instances/${key}`);
  view.append(h("h2", {}, `${i.bpmn_process_id} instance ${i.key} · `, state(i.state)),
    facts([
      ["order", i.order_url ? h("a", { href: i.order_url, "data-testid": "order-link" }, i.order_id) : "—"],
      ["trace", i.trace_url ? h("a", { href: i.trace_url, "data-testid": "trace-link" }, `${i.trace_id} (Zipkin)`)
        : i.trace_id || "—"],
      ["version", `${i.version}${i.version_tag ? ` (tag ${i.version_tag})` : ""} (definition ${i.definition_key})`],
      ["migrated", i.migrations.length
        ? h("span", { "data-testid": "migrations" }, i.migrations.map((m, n) => [n ? "; " : "",
          `version ${m.from_version} → ${m.to_version} at ${when(m.migrated_at)}`]))
        : "—"],
      ["started", when(i.started_at)], ["ended", when(i.ended_at) || "—"],
      ["last record", when(i.last_record_at)],
      ["called by", i.parent_key ? instanceLink(i.parent_key) : "—"],
      ["called", i.children.length ? i.children.map((c) => [instanceLink(c.key), ` ${c.bpmn_process_id} v${c.version} `,
                                                           state(c.state), " "]) : "—"]]),
    h("p", {}, i.state !== "ACTIVE" ? null : i.order_id
      // Cancelling an order's instance in the engine would strand the order: the Order service undoes its work.
      ? h("span", { "data-testid": "order-actions" }, "An order's process: to stop it, cancel the order ",
          h("code", {}, `fulfil order cancel ${i.order_id}`), ", or when it cannot finish, abort it with its work undone ",
          h("code", {}, `fulfil order abort ${i.order_id} --reason ...`))
      : h("button", { "data-testid": "cancel-instance", onclick: () => {
        if (confirm(`Cancel instance ${i.key}?`)) act(`cancellation of ${i.key}`, `/instances/${i.key}/cancellation`);
      } }, "cancel instance")));
  const failing = new Set(i.incidents.filter((x) => x.state === "ACTIVE").map((x) => x.element_id));
  await diagram(i.definition_key, ({ mark, badge }) => {
    for (const id of i.completed_elements) mark(id, "completed");
    for (const id of i.terminated_elements) mark(id, "terminated");
    for (const id of i.taken_flows) mark(id, "taken");
    const active = {};
    for (const id of i.active_elements) active[id] = (active[id] || 0) + 1;
    for (const [id, count] of Object.entries(active)) {
      mark(id, "active");
      badge(id, "active", count);
    }
    for (const id of failing) {
      mark(id, "failing");
      badge(id, "incidents", "incident", { top: -8, right: 8 });
    }
  });
  view.append(h("h2", {}, "Incidents"), i.incidents.length
    ? table(INCIDENT_HEADINGS, i.incidents.map(incidentRow)) : h("p", {}, "none"));
  view.append(h("h2", {}, "User tasks"), i.user_tasks.length
    ? table(TASK_HEADINGS, i.user_tasks.map(taskRow)) : h("p", {}, "none"));
  view.append(h("h2", {}, "Variables"), table(["name", "value", "scope"], i.variables.map((v) => h("tr", {},
    h("td", {}, v.name), h("td", { class: "value" }, v.value), h("td", {}, v.scope_key === i.key ? "instance" :
                                                                      v.scope_key)))));
  view.append(h("h2", {}, "Elements"), table(["element", "type", "state", "entered", "left"],
    i.elements.map((e) => h("tr", {}, h("td", {}, e.element_id), h("td", {}, e.element_type),
                            h("td", {}, state(e.state)), h("td", {}, when(e.entered_at)),
                            h("td", {}, when(e.left_at))))));
  if (i.order_id) view.append(...await auditOf(i.order_id));
}

async function incidentsPage() {
  const page = await api("/incidents?limit=500");
  view.append(h("h2", {}, `Open incidents (${page.total})`),
              page.items.length ? table(INCIDENT_HEADINGS, page.items.map(incidentRow)) : h("p", {}, "none"),
              retryAllForm());
}

// Every open incident that matches, retried as one operation of the monitor (its progress: #/operations/<id>).
function retryAllForm() {
  const field = (name, label, type = "text") => h("label", {}, `${label} `, h("input", { name, type }));
  const form = h("form", { "data-testid": "retry-all", onsubmit: async (event) => {
    event.preventDefault();
    const chosen = Object.fromEntries([...new FormData(form)].filter(([, v]) => v));
    for (const name of ["since", "until"]) if (chosen[name]) chosen[name] = new Date(chosen[name]).toISOString();
    try {
      const operation = await api("/operations/incident-retries", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(chosen) });
      location.hash = `#/operations/${operation.id}`;
    } catch (error) {
      say(`retrying the incidents failed: ${error.message}`, true);
    }
  } },
  h("h3", {}, "Retry all that match, as one operation"), field("job_type", "job type"),
  field("message_contains", "message contains"), field("since", "raised since", "datetime-local"),
  field("until", "until", "datetime-local"), h("button", { type: "submit" }, "retry matching incidents"));
  return form;
}

function operationRow(o) {
  return h("tr", {}, h("td", {}, h("a", { href: `#/operations/${o.id}` }, o.id.slice(0, 8))), h("td", {}, o.kind),
           h("td", {}, JSON.stringify(o.filter)), h("td", {}, o.actor), h("td", {}, when(o.created_at)),
           h("td", {}, state(o.state)), h("td", {}, `${o.total - o.pending} of ${o.total}`), h("td", {}, o.ok),
           h("td", { class: o.failed ? "incident" : "" }, o.failed));
}

const OPERATION_HEADINGS = ["operation", "kind", "filter", "by", "created", "state", "done", "ok", "failed"];

async function operationsPage() {
  const page = await api("/operations?limit=100");
  view.append(h("h2", {}, `Batch operations (${page.total})`),
              page.items.length ? table(OPERATION_HEADINGS, page.items.map(operationRow)) : h("p", {}, "none"));
}

async function operationPage(id) {
  const o = await api(`/operations/${id}`);
  view.append(h("h2", {}, `Operation ${o.id}`), table(OPERATION_HEADINGS, [operationRow(o)]),
              table(["item", "state", "result", "done"], o.items.map((item) => h("tr", { "data-testid": "item" },
                h("td", {}, item.target), h("td", {}, state(item.state)), h("td", {}, item.result || ""),
                h("td", {}, when(item.done_at))))));
  if (o.state === "RUNNING") setTimeout(() => { if (location.hash === `#/operations/${id}`) route(); }, 1000);
}

// Who did what to the order's instances in the monitor, newest first.
async function auditOf(orderId) {
  const page = await api(`/audit?order_id=${encodeURIComponent(orderId)}&limit=100`);
  return [h("h2", {}, "Who did what"), page.items.length
    ? table(["at", "who", "action", "target", "result"], page.items.map((e) => h("tr", { "data-testid": "audit" },
      h("td", {}, when(e.at)), h("td", {}, e.actor), h("td", {}, e.action), h("td", {}, e.target),
      h("td", {}, e.result))))
    : h("p", {}, "nothing yet")];
}

async function tasksPage() {
  const page = await api("/user-tasks?limit=500");
  view.append(h("h2", {}, `Open user tasks (${page.total})`),
              page.items.length ? table(TASK_HEADINGS, page.items.map(taskRow)) : h("p", {}, "none"));
}

async function stalledPage() {
  const stalled = await api("/stalled-instances");
  view.append(h("h2", {}, "Instances without progress"), stalled.length
    ? table(["instance", "process", "order", "idle", "waiting at", "incidents"], stalled.map((s) => h("tr", {},
      h("td", {}, instanceLink(s.key)), h("td", {}, s.bpmn_process_id), h("td", {}, s.order_id || ""),
      h("td", {}, `${Math.round(s.idle_seconds / 60)} min`), h("td", {}, s.waiting_at.join(", ")),
      h("td", { class: s.open_incidents ? "incident" : "" }, s.open_incidents || ""))))
    : h("p", {}, "none"));
}

// --- routes ---------------------------------------------------------------------------------------------------

async function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  view.replaceChildren();
  try {
    if (parts[0] === "definitions" && parts[1]) await definitionPage(parts[1]);
    else if (parts[0] === "instances" && parts[1]) await instancePage(parts[1]);
    else if (parts[0] === "instances") await instanceList(filtersFrom(query));
    else if (parts[0] === "orders" && parts[1]) await instanceList({ order_id: decodeURIComponent(parts[1]) },
                                                                  `Instances of order ${decodeURIComponent(parts[1])}`);
    else if (parts[0] === "incidents") await incidentsPage();
    else if (parts[0] === "operations" && parts[1]) await operationPage(parts[1]);
    else if (parts[0] === "operations") await operationsPage();
    else if (parts[0] === "tasks") await tasksPage();
    else if (parts[0] === "stalled") await stalledPage();
    else await home();
  } catch (error) {
    say(error.message, true);
  }
}

// Everything but this page and the user tasks is an operator's (a group member sees their groups' tasks): the page
// routes once login.js has logged the browser in.
function start() {
  const who = window.loggedIn;
  me = { username: who.username, groups: who.groups };
  const groups = me.groups.length ? `; groups ${me.groups.join(", ")}` : "";
  document.getElementById("user").textContent = who.username;
  document.getElementById("roles").textContent = `${who.roles}${groups}`;
  window.addEventListener("hashchange", () => { say(""); route(); });
  route();
}
if (window.authorizedFetch) start(); else window.addEventListener("logged-in", start, { once: true });
