// TokenHub's admin console, the views: one function per page, each rendering what the admin
// API answers (as text) into #view. Loaded after app.js, whose helpers it uses.
"use strict";

// ---- overview ------------------------------------------------------------------------------

function tile(label, value, id) { return h("div", { class: "tile" }, h("div", { class: "label", text: label }), h("div", { class: "value", id, text: value })); }

function chart(points, label) {
  const ns = "http://www.w3.org/2000/svg";
  const values = points.map((point) => point.value);
  const max = Math.max(0, ...values);
  if (points.length < 2 || max === 0) return h("figure", {}, h("figcaption", { class: "hint", text: `${label}: no data in the last hour` }));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 600 140");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  line.setAttribute("points", points.map((point, index) =>
    `${(index / (points.length - 1)) * 580 + 10},${130 - (point.value / max) * 110}`).join(" "));
  svg.append(line);
  return h("figure", {}, h("figcaption", { class: "hint", text: `${label} (max ${show(max)})` }), svg);
}

async function overview() {
  const [stats, health, workflows] = await Promise.all([
    api("GET", "/admin/v1/stats"), api("GET", "/admin/v1/health"),
    api("GET", "/admin/v1/workflows?limit=1").catch((error) => ({ error: error.message })),
  ]);
  const hour = stats.windows["1h"].global, minute = stats.windows["1m"].global;
  const latency = hour.latency_ms || {};
  const feed = h("ul", { class: "feed", id: "event-feed", "aria-live": "polite" });
  const temporal = workflows.error ? "unknown (" + workflows.error + ")" : (workflows.temporal_enabled ? "enabled" : "not enabled");
  const charts = h("div", { id: "charts" }, h("p", { class: "hint", text: "Latency and cost per minute over the last hour (needs a store)." }));
  setView("Overview",
    h("div", { class: "tiles" },
      tile("Requests (1 h)", show(hour.requests), "requests-1h"),
      tile("Requests/s (this minute)", show((minute.requests || 0) / 60)),
      tile("Error rate (1 h)", show(hour.error_rate)),
      tile("Latency p50 / p95 / p99 ms", [latency.p50, latency.p95, latency.p99].map(show).join(" / ")),
      tile("Cost (1 h, USD)", show(hour.cost_usd)),
      tile("Temporal", temporal),
      tile("Temporal breaker", state.breaker, "breaker")),
    h("h2", { text: "Providers" }),
    table([{ key: "id", label: "Provider" }, { key: "state", label: "State" }, { key: "latency_ewma_ms", label: "Latency EWMA ms" },
      { key: "error_rate", label: "Error rate" }, { key: "last_error_class", label: "Last error" }, { key: "last_change_unix_ms", label: "Changed" }],
    health.providers, (row, column) => column.key === "state" ? h("span", { class: "state-" + row.state, text: row.state })
      : column.key === "last_change_unix_ms" ? time(row.last_change_unix_ms) : show(row[column.key])),
    h("h2", { text: "Charts" }), charts,
    h("h2", { text: "Live events" }), feed);
  follow(feed);
  try {
    const [latencySeries, costSeries] = await Promise.all([
      api("GET", "/admin/v1/tsdb/query?metric=latency_ms"), api("GET", "/admin/v1/tsdb/query?metric=cost_usd")]);
    const points = (series, field) => (series.points || series.steps || []).map((step) => ({ value: Number(step[field] || 0) }));
    charts.replaceChildren(chart(points(latencySeries, "avg"), "average latency ms per minute"), chart(points(costSeries, "sum"), "cost USD per minute"));
  } catch (error) {
    charts.append(h("p", { class: "hint", text: "No charts: " + error.message }));
  }
}

// The event stream over fetch (EventSource cannot send the token as a header).
async function follow(list) {
  if (state.feed) state.feed.abort();
  const controller = new AbortController();
  state.feed = controller;
  try {
    // From the start of the bus's ring (Last-Event-ID: 0): the feed opens with recent history,
    // and the breaker tile learns its state from the last breaker event there.
    const response = await fetch("/admin/v1/events", { headers: { "Authorization": "Bearer " + state.token, "Last-Event-ID": "0" }, signal: controller.signal });
    if (!response.ok || !response.body) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) type = line.slice(7);
          if (line.startsWith("data: ")) data = line.slice(6);
        }
        if (!type) continue;
        if (type === "breaker_opened" || type === "breaker_closed") {
          state.breaker = type === "breaker_opened" ? "open" : "closed";
          const tileValue = document.getElementById("breaker");
          if (tileValue) tileValue.textContent = state.breaker;
        }
        list.prepend(h("li", { text: `${type} ${data}` }));
        while (list.children.length > 200) list.lastChild.remove();
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") list.prepend(h("li", { class: "error", text: "event stream ended: " + error.message }));
  }
}

// ---- API keys ------------------------------------------------------------------------------

function newKeyBox(answer) {
  const key = h("div", { class: "secret", id: "new-key", text: answer.key });
  const copy = h("button", { type: "button", class: "secondary", onclick: () => navigator.clipboard && navigator.clipboard.writeText(answer.key).then(() => { copy.textContent = "Copied"; }, () => {}) }, "Copy");
  return h("div", { class: "card", role: "status" }, h("p", { text: `New key for ${answer.name || answer.id}: shown once, store it now.` }), key, copy);
}

async function keys(message) {
  const answer = await api("GET", "/admin/v1/apikeys");
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "inline", id: "create-key" },
    h("div", { class: "field" }, h("label", { for: "key-name", text: "Name" }), h("input", { id: "key-name", name: "name", required: true })),
    h("div", { class: "field" }, h("label", { for: "key-budget", text: "Monthly budget USD" }), h("input", { id: "key-budget", name: "budget", type: "number", step: "any", min: "0" })),
    h("div", { class: "field" }, h("label", { for: "key-rps", text: "Rate limit req/s" }), h("input", { id: "key-rps", name: "rps", type: "number", step: "any", min: "0" })),
    h("div", { class: "field" }, h("label", { for: "key-scopes", text: "Scopes" }),
      h("select", { id: "key-scopes", name: "scopes" }, h("option", { value: "", text: "chat and plan" }), h("option", { value: "chat", text: "chat" }), h("option", { value: "plan", text: "plan" }))),
    h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.elements.name.value };
    if (form.elements.budget.value) body.monthly_budget_usd = Number(form.elements.budget.value);
    if (form.elements.rps.value) body.rate_limit_rps = Number(form.elements.rps.value);
    if (form.elements.scopes.value) body.scopes = [form.elements.scopes.value];
    try { await keys(newKeyBox(await api("POST", "/admin/v1/apikeys", body))); } catch (failed) { error.textContent = failed.message; }
  });
  const act = async (work) => { try { const result = await work(); await keys(result instanceof Node ? result : undefined); } catch (failed) { error.textContent = failed.message; } };
  setView("API keys", message || "", h("section", { class: "card" }, h("h2", { text: "Create a key" }), form, error),
    table([{ key: "name", label: "Name" }, { key: "id", label: "ID" }, { key: "enabled", label: "Enabled" }, { key: "scopes", label: "Scopes" },
      { key: "monthly_budget_usd", label: "Budget USD" }, { key: "spend_this_month_usd", label: "Spent this month" },
      { key: "rate_limit_rps", label: "Rate limit" }, { key: "actions", label: "Actions" }],
    answer.keys || [], (row, column) => column.key !== "actions" ? show(row[column.key]) : h("span", {},
      h("button", { type: "button", class: "secondary", "data-action": row.enabled === false ? "enable" : "disable", "data-id": row.id,
        onclick: () => act(async () => { await api("PATCH", `/admin/v1/apikeys/${encodeURIComponent(row.id)}`, { enabled: row.enabled === false }); }) },
      row.enabled === false ? "Enable" : "Disable"), " ",
      h("button", { type: "button", class: "secondary", "data-action": "rotate", "data-id": row.id,
        onclick: () => act(async () => newKeyBox(await api("POST", `/admin/v1/apikeys/${encodeURIComponent(row.id)}/rotate`))) }, "Rotate"), " ",
      h("button", { type: "button", class: "danger", "data-action": "revoke", "data-id": row.id,
        onclick: () => { if (confirm(`Revoke ${row.name}? Requests with it are refused at once.`)) act(() => api("DELETE", `/admin/v1/apikeys/${encodeURIComponent(row.id)}`)); } }, "Revoke"))));
}

// ---- logs and audit ------------------------------------------------------------------------

// The filters run on the server (`/admin/v1/logs?model=…`), across every page; `wanted` holds
// the applied ones, by query name.
const logFilterNames = [["model", "model"], ["provider", "provider"], ["key", "key id"], ["status", "status"]];

async function logs(offset = 0, wanted = {}) {
  const page = 50;
  const query = new URLSearchParams({ limit: String(page), offset: String(offset) });
  for (const [name] of logFilterNames) if (wanted[name]) query.set(name, wanted[name]);
  if (wanted.sinceMinutes) query.set("since", String(Date.now() - Number(wanted.sinceMinutes) * 60000));
  const answer = await api("GET", "/admin/v1/logs?" + query.toString());
  const filters = h("form", { class: "inline", id: "log-filters" },
    ...logFilterNames.map(([name, label]) => h("div", { class: "field" },
      h("label", { for: "filter-" + name, text: label }), h("input", { id: "filter-" + name, name, value: wanted[name] || "" }))),
    h("div", { class: "field" }, h("label", { for: "filter-since", text: "since" }),
      h("select", { id: "filter-since", name: "sinceMinutes" }, ...[["", "any time"], ["5", "5 minutes"], ["60", "1 hour"], ["1440", "24 hours"]]
        .map(([value, text]) => h("option", { value, text, selected: (wanted.sinceMinutes || "") === value ? "" : null })))),
    h("button", { type: "submit", id: "apply-log-filters" }, "Apply"));
  const apply = (event) => {
    if (event) event.preventDefault();
    const next = Object.fromEntries([...logFilterNames.map(([name]) => name), "sinceMinutes"].map((name) => [name, filters.elements[name].value.trim()]));
    logs(0, next).catch((error) => problem.replaceChildren(failure(error)));
  };
  const problem = h("div", { id: "log-filter-error" });
  filters.addEventListener("submit", apply);
  filters.elements.sinceMinutes.addEventListener("change", () => apply());
  const rows = answer.rows || [];
  const body = h("div", {}, table([{ key: "time_unix_ms", label: "Time" }, { key: "request_id", label: "Request" }, { key: "model_id", label: "Model" },
    { key: "provider_id", label: "Provider" }, { key: "api_key_id", label: "Key" }, { key: "status", label: "Status" },
    { key: "latency_ms", label: "ms" }, { key: "estimated_cost_usd", label: "USD" }, { key: "error", label: "Error" }], rows, (row, column) => {
    if (column.key === "time_unix_ms") return time(row.time_unix_ms);
    if (column.key === "request_id" && row.dispatcher === "temporal") return h("a", { href: "#workflows/" + encodeURIComponent("chat-" + row.request_id), text: row.request_id });
    return show(row[column.key]);
  }));
  const pager = h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: offset === 0, onclick: () => logs(Math.max(0, offset - page), wanted) }, "Newer"),
    h("span", { id: "log-count", text: rows.length ? `${offset + 1}–${offset + rows.length} of ${show(answer.total)}` : `none of ${show(answer.total)}` }),
    h("button", { type: "button", class: "secondary", disabled: offset + rows.length >= (answer.total || 0), onclick: () => logs(offset + page, wanted) }, "Older"));
  const audit = await api("GET", "/admin/v1/audit?limit=20").catch((error) => ({ rows: [], error: error.message }));
  setView("Request logs", filters, problem, pager, body, h("h2", { text: "Audit (latest 20)" }),
    table([{ key: "time_unix_ms", label: "Time" }, { key: "action", label: "Action" }, { key: "resource", label: "Resource" }, { key: "request_id", label: "Request" }],
      audit.rows || [], (row, column) => column.key === "time_unix_ms" ? time(row.time_unix_ms) : show(row[column.key])));
}

// ---- providers and models ------------------------------------------------------------------

// Shows a server validation error next to the field it names (`weight: expected …`).
function fieldError(form, message) {
  for (const element of form.querySelectorAll(".field-error")) element.textContent = "";
  const named = [...form.querySelectorAll("[data-field]")].find((slot) => new RegExp("(^|[.\\s\\[])" + slot.dataset.field + "\\b").test(message));
  (named || form.querySelector(".form-error")).textContent = message;
}

function field(form, name, label, attributes) {
  return h("div", { class: "field" }, h("label", { for: `${form}-${name}`, text: label }),
    h("input", Object.assign({ id: `${form}-${name}`, name }, attributes || {})), h("span", { class: "field-error", "data-field": name }));
}

// A model id may hold "/" (`team/mock-1`): each segment is escaped on its own.
const modelPath = (id) => "/admin/v1/models/" + id.split("/").map(encodeURIComponent).join("/");

// Puts `form` in edit mode for `row`: the id is fixed, the other fields start from the row's
// values, and the submit button saves with PATCH (see the submit handlers).
function startEditing(form, row, names, submit, cancel) {
  form.dataset.editing = row.id;
  form.elements.id.value = row.id;
  form.elements.id.readOnly = true;
  for (const name of names) form.elements[name].value = row[name] === undefined || row[name] === null ? "" : String(row[name]);
  for (const element of form.querySelectorAll(".field-error, .form-error")) element.textContent = "";
  submit.textContent = "Save " + row.id;
  cancel.hidden = false;
  form.elements[names[0]].focus();
}

async function registry() {
  const [providers, models] = await Promise.all([api("GET", "/admin/v1/providers"), api("GET", "/admin/v1/models")]);
  const modelNumbers = ["weight", "input_price_per_1k", "output_price_per_1k"];
  const modelSubmit = h("button", { type: "submit", id: "model-submit" }, "Add model");
  const modelCancel = h("button", { type: "button", class: "secondary", id: "model-cancel", hidden: true, onclick: () => registry() }, "Cancel");
  const modelForm = h("form", { class: "inline", id: "add-model" },
    field("model", "id", "Model id", { required: true }), field("model", "provider", "Provider", { required: true }),
    field("model", "weight", "Weight (0–10)", { type: "number" }), field("model", "input_price_per_1k", "Input $/1k", { type: "number", step: "any" }),
    field("model", "output_price_per_1k", "Output $/1k", { type: "number", step: "any" }),
    modelSubmit, modelCancel, h("p", { class: "error form-error", role: "alert" }));
  modelForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const editing = modelForm.dataset.editing;
    const body = editing ? { provider: modelForm.elements.provider.value } : { id: modelForm.elements.id.value, provider: modelForm.elements.provider.value };
    for (const name of modelNumbers) if (modelForm.elements[name].value !== "") body[name] = Number(modelForm.elements[name].value);
    try {
      await (editing ? api("PATCH", modelPath(editing), body) : api("POST", "/admin/v1/models", body));
      await registry();
    } catch (error) { fieldError(modelForm, error.message); }
  });
  const providerSubmit = h("button", { type: "submit", id: "provider-submit" }, "Add provider");
  const providerCancel = h("button", { type: "button", class: "secondary", id: "provider-cancel", hidden: true, onclick: () => registry() }, "Cancel");
  const providerForm = h("form", { class: "inline", id: "add-provider" },
    field("provider", "id", "Provider id", { required: true }),
    h("div", { class: "field" }, h("label", { for: "provider-type", text: "Type" }),
      h("select", { id: "provider-type", name: "type" }, ...["openai", "anthropic", "echo"].map((type) => h("option", { value: type, text: type })))),
    field("provider", "base_url", "Base URL"), field("provider", "api_key", "API key (write-only; empty keeps it)", { type: "password", autocomplete: "off" }),
    providerSubmit, providerCancel, h("p", { class: "error form-error", role: "alert" }));
  providerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const editing = providerForm.dataset.editing;
    const body = editing ? { type: providerForm.elements.type.value } : { id: providerForm.elements.id.value, type: providerForm.elements.type.value };
    for (const name of ["base_url", "api_key"]) if (providerForm.elements[name].value) body[name] = providerForm.elements[name].value;
    try {
      await (editing ? api("PATCH", `/admin/v1/providers/${encodeURIComponent(editing)}`, body) : api("POST", "/admin/v1/providers", body));
      await registry();
    } catch (error) { fieldError(providerForm, error.message); }
  });
  const problem = h("p", { class: "error", role: "alert" });
  const change = async (work) => { try { await work(); await registry(); } catch (error) { problem.textContent = error.message; } };
  setView("Providers & models", problem,
    h("h2", { text: "Models" }), h("section", { class: "card" }, modelForm),
    table([{ key: "id", label: "Model" }, { key: "provider", label: "Provider" }, { key: "enabled", label: "Enabled" }, { key: "weight", label: "Weight" },
      { key: "input_price_per_1k", label: "In $/1k" }, { key: "output_price_per_1k", label: "Out $/1k" }, { key: "actions", label: "Actions" }],
    models.models || [], (row, column) => column.key !== "actions" ? show(row[column.key]) : h("span", {},
      h("button", { type: "button", class: "secondary", "data-action": "edit-model", "data-id": row.id,
        onclick: () => startEditing(modelForm, row, ["provider", ...modelNumbers], modelSubmit, modelCancel) }, "Edit"), " ",
      h("button", { type: "button", class: "secondary", onclick: () => change(() => api("PATCH", modelPath(row.id), { enabled: row.enabled === false })) },
        row.enabled === false ? "Enable" : "Disable"), " ",
      h("button", { type: "button", class: "danger", onclick: () => { if (confirm(`Delete model ${row.id}?`)) change(() => api("DELETE", modelPath(row.id))); } }, "Delete"))),
    h("h2", { text: "Providers" }), h("section", { class: "card" }, providerForm),
    table([{ key: "id", label: "Provider" }, { key: "type", label: "Type" }, { key: "enabled", label: "Enabled" }, { key: "base_url", label: "Base URL" },
      { key: "has_api_key", label: "Key set" }, { key: "actions", label: "Actions" }],
    providers.providers || [], (row, column) => column.key !== "actions" ? show(row[column.key]) : h("span", {},
      h("button", { type: "button", class: "secondary", "data-action": "edit-provider", "data-id": row.id,
        onclick: () => startEditing(providerForm, row, ["type", "base_url"], providerSubmit, providerCancel) }, "Edit"), " ",
      h("button", { type: "button", class: "secondary", onclick: () => change(() => api("PATCH", `/admin/v1/providers/${encodeURIComponent(row.id)}`, { enabled: row.enabled === false })) },
        row.enabled === false ? "Enable" : "Disable"), " ",
      h("button", { type: "button", class: "danger", onclick: () => { if (confirm(`Delete provider ${row.id}?`)) change(() => api("DELETE", `/admin/v1/providers/${encodeURIComponent(row.id)}`)); } }, "Delete"))));
}

// ---- workflows -----------------------------------------------------------------------------

const TEMPORAL_UI_KEY = "tokenhub-temporal-ui";

async function workflows(id) {
  const ui = localStorage.getItem(TEMPORAL_UI_KEY) || "http://localhost:8233";
  const uiInput = h("input", { id: "temporal-ui", value: ui });
  uiInput.addEventListener("change", () => localStorage.setItem(TEMPORAL_UI_KEY, uiInput.value.trim()));
  const settings = h("div", { class: "field" }, h("label", { for: "temporal-ui", text: "Temporal Web UI" }), uiInput);
  const webLink = (workflowID) => h("a", { href: `${ui.replace(/\/$/, "")}/namespaces/default/workflows/${encodeURIComponent(workflowID)}`, target: "_blank", rel: "noopener", text: "open in Temporal UI" });
  if (id) {
    const [described, history] = await Promise.all([api("GET", `/admin/v1/workflows/${encodeURIComponent(id)}`), api("GET", `/admin/v1/workflows/${encodeURIComponent(id)}/history`)]);
    setView("Workflow " + id, h("p", {}, h("a", { href: "#workflows", text: "all workflows" }), " · ", webLink(id)),
      h("pre", { text: JSON.stringify(described, null, 2) }), h("h2", { text: "History" }),
      table([{ key: "event_id", label: "#" }, { key: "event_type", label: "Event" }, { key: "event_time", label: "Time" }, { key: "activity_type", label: "Activity" }, { key: "failure", label: "Failure" }],
        history.events || []));
    return;
  }
  const status = h("select", { id: "workflow-status" }, ...["", "RUNNING", "COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"].map((value) => h("option", { value, text: value || "any status" })));
  const list = h("div", {});
  const load = async () => {
    const answer = await api("GET", "/admin/v1/workflows?limit=50" + (status.value ? "&status=" + status.value : ""));
    list.replaceChildren(answer.temporal_enabled === false ? h("p", { class: "hint", text: "Temporal dispatch is not enabled on this gateway." })
      : table([{ key: "workflow_id", label: "Workflow" }, { key: "type", label: "Type" }, { key: "status", label: "Status" }, { key: "start_time", label: "Started" }, { key: "ui", label: "" }],
        answer.workflows || [], (row, column) => column.key === "workflow_id" ? h("a", { href: "#workflows/" + encodeURIComponent(row.workflow_id), text: row.workflow_id })
          : column.key === "ui" ? webLink(row.workflow_id) : show(row[column.key])));
  };
  status.addEventListener("change", () => load().catch((error) => list.replaceChildren(failure(error))));
  setView("Workflows", h("form", { class: "inline" }, h("div", { class: "field" }, h("label", { for: "workflow-status", text: "Status" }), status), settings), list);
  await load();
}

// ---- config and plugins --------------------------------------------------------------------

async function config() {
  const health = await (await fetch("/healthz")).json();
  const outcome = h("div", { id: "reload-outcome", role: "status" });
  const reload = h("button", { type: "button", id: "reload" }, "Reload config.yaml");
  reload.addEventListener("click", async () => {
    outcome.replaceChildren(h("p", { class: "hint", text: "Reloading…" }));
    try {
      const answer = await api("POST", "/admin/v1/reload");
      outcome.replaceChildren(h("p", { class: "ok", text: `Reloaded: generation ${answer.generation}, changed: ${show(answer.changed)}` }), h("pre", { text: JSON.stringify(answer, null, 2) }));
    } catch (error) {
      outcome.replaceChildren(h("p", { class: "error", role: "alert", id: "reload-error", text: "Rejected: " + error.message }));
    }
  });
  setView("Config & plugins",
    h("p", { text: `Running generation ${show(health.generation)}, status ${show(health.status)}, ${show(health.providers)} providers, ${show(health.models)} usable models.` }),
    h("section", { class: "card" }, reload, outcome),
    h("h2", { text: "Loaded plugins" }),
    table([{ key: "name", label: "Plugin" }, { key: "version", label: "Version" }, { key: "abi", label: "ABI" }, { key: "kinds", label: "Kinds" },
      { key: "status", label: "Status" }, { key: "sha256", label: "SHA-256" }], health.plugins || []));
}

// ---- routing -------------------------------------------------------------------------------

const views = { overview, keys, logs, registry, workflows, config };

async function route() {
  if (!state.token) return signOut();
  const [name, ...rest] = (location.hash.slice(1) || "overview").split("/");
  const view = views[name] || overview;
  if (name !== "overview" && state.feed) { state.feed.abort(); state.feed = null; }
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === "#" + name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  try {
    await view(rest.length ? decodeURIComponent(rest.join("/")) : undefined);
  } catch (error) {
    if (state.token) setView("Something went wrong", failure(error));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
  window.addEventListener("hashchange", route);
  if (state.token) { document.getElementById("nav").hidden = false; route(); } else signOut();
});
