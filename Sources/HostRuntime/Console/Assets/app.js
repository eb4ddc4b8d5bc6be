// TokenHub's admin console: plain JavaScript over the admin API, no framework, no build step.
// Every value from the server is rendered as text (textContent), never as HTML.
"use strict";

const TOKEN_KEY = "tokenhub-admin-token";
const state = { token: sessionStorage.getItem(TOKEN_KEY) || "", feed: null, breaker: "closed (no event yet)" };

// h("tag", {attr: value, onclick: fn}, child...): an element; strings become text nodes.
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "text") element.textContent = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function show(value) {
  if (value === undefined || value === null || value === "") return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.map(show).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function time(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "-"; }

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({ "Authorization": "Bearer " + state.token }, body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
  if (!response.ok) {
    const message = (json && json.error && json.error.message) || text || response.statusText;
    if (response.status === 401 || response.status === 403) { if (path !== "/admin/v1/health") signOut("Signed out: " + message); }
    throw new APIError(response.status, message);
  }
  return json;
}

function table(columns, rows, cell) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col", text: column.label })))),
    h("tbody", {}, rows.length === 0
      ? h("tr", {}, h("td", { colspan: columns.length, text: "(none)" }))
      : rows.map((row) => h("tr", {}, columns.map((column) => h("td", {}, cell ? cell(row, column) : show(row[column.key]))))))));
}

function setView(title, ...content) {
  const view = document.getElementById("view");
  view.replaceChildren(h("h1", { text: title }), ...content);
  view.hidden = false;
}

function failure(error) { return h("p", { class: "error", role: "alert", text: error.message }); }

// ---- sign-in -------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  if (state.feed) { state.feed.abort(); state.feed = null; }
  document.getElementById("nav").hidden = true;
  document.getElementById("view").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  document.getElementById("token").focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = document.getElementById("token");
  state.token = input.value.trim();
  try {
    await api("GET", "/admin/v1/health");
  } catch (error) {
    state.token = "";
    document.getElementById("sign-in-error").textContent = error.status === 401 || error.status === 403
      ? "That token was refused." : "Could not sign in: " + error.message;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  input.value = "";
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  route();
}

