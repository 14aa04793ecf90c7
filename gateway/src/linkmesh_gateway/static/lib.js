// What every screen shares: the page's state and storage, DOM and formatting helpers, calls to the API, confirmations, action results.

import { openProfile } from "./profile.js";

export const SIDEBAR = location.pathname.replace(/\/+$/, "") === "/sidebar";

// This tab's storage; in a helpdesk's frame a browser that blocks third-party storage refuses
// it, and the token is then kept in this page's memory only (sign in again after a reload).
export const store = (() => {
  try {
    const probe = "linkmesh.probe";
    window.sessionStorage.setItem(probe, "1");
    window.sessionStorage.removeItem(probe);
    return window.sessionStorage;
  } catch {
    const memory = new Map();
    return { getItem: (k) => (memory.has(k) ? memory.get(k) : null), setItem: (k, v) => memory.set(k, String(v)), removeItem: (k) => memory.delete(k) };
  }
})();

export const state = {
  token: store.getItem("linkmesh.token") || "", role: "", connectors: null, customer: null, results: new Map(),
  frameOrigins: [], directory: { query: "", token: "" }, searchResults: null, lastContext: "", pending: new Set(), showSources: false,
  searchOpen: null,
};

// ---- helpers ---------------------------------------------------------------

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replaces a node's children; absent ones (null, undefined, false) are skipped, never shown as text.
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

export function link(url, text) {
  return url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url) : text || "";
}

function isZero(amount) {
  return !amount || Number(amount) === 0;
}

// Money as a person reads it; nothing for an absent or zero amount (no "0.00 USD" discounts).
export function money(m) {
  return m && !isZero(m.amount) ? `${m.amount} ${m.currency}` : "";
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

// Dates without seconds.
export function when(ts) {
  return ts ? DATE.format(new Date(ts)) : "";
}

export function day(ts) {
  return ts ? DAY.format(new Date(ts)) : "";
}

// A date in a row: without its year when it is this year's ("Feb 14"), the whole date on hover.
const SHORT = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function shortDay(ts) {
  if (!ts) return null;
  const date = new Date(ts);
  const text = date.getFullYear() === new Date().getFullYear() ? SHORT.format(date) : DAY.format(date);
  return el("time", { datetime: ts, title: DAY.format(date) }, text);
}

export function ago(ts) {
  if (!ts) return "";
  const s = Math.max(0, (Date.now() - new Date(ts).getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return when(ts);
}

// An order as people say it: "#1002" (a vendor whose numbers carry the # keeps one).
export function orderRef(o) {
  const number = String(o.number || o.id || "");
  return number.startsWith("#") ? number : `#${number}`;
}

// "loyalty_tier" → "Loyalty tier".
export function humanize(key) {
  const text = String(key).replace(/[_.-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim().toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// A message as a sentence: it starts with a capital, whoever wrote it (the API, a system).
export function sentence(text) {
  const t = String(text || "");
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export function notice(text, isError = false) {
  const box = document.getElementById("notice");
  box.textContent = sentence(text);
  box.className = isError ? "error" : "muted";
}

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    const err = (body && body.error) || {};
    const fields = Object.entries(err.fields || {}).map(([f, m]) => `${f}: ${m}`).join("; ");
    super(sentence(`${err.message || `HTTP ${status}`}${fields ? ` (${fields})` : ""}`));
    this.status = status;
    this.code = err.code;
    this.reason = sentence(err.message || `HTTP ${status}`);
    this.fields = err.fields || {};
    this.retryAfter = retryAfter;  // seconds, from Retry-After: when asking again may answer
  }
}

export async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, payload, Number(response.headers.get("Retry-After")) || null);
  return payload;
}

export async function guarded(action) {
  try {
    notice("");
    await action();
  } catch (error) {
    notice(error.message, true);
  }
}

// One Idempotency-Key per set of values: the same values (a double click, a retry after a lost
// answer) keep their key, so an action runs at most once; changed values are a new request.
export function keyedRequests() {
  let last = null;
  return (body) => {
    const text = JSON.stringify(body);
    if (!last || last.text !== text) last = { text, key: crypto.randomUUID() };
    return last.key;
  };
}

// The button stays disabled while its request runs.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// Asks once, in a dialog that says what will happen; answers true to go ahead.
export function confirmAction(title, lines, yesLabel, danger = false) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  fill(document.getElementById("confirm-body"),
    ...lines.map((line) => (line instanceof Node ? line : el("p", {}, line))));
  const yes = document.getElementById("confirm-yes");
  yes.textContent = yesLabel;
  yes.className = danger ? "primary danger" : "primary";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-no").focus();
  });
}

// The system's own last words: no codes, no "HTTP 503:", no chain of "x failed: y: z" the mesh adds.
export function ownWords(message) {
  return String(message || "").replace(/^the [a-zA-Z ]*failed \([A-Z_]+\): /, "").replace(/\b[A-Z]+(_[A-Z]+)+\b:? ?/g, "")
    .replace(/\bHTTP \d{3}\b:? ?/g, "").split(/:\s+/).filter((part) => part.trim()).pop()?.trim() || "";
}

// What a failed call to a system means, in words (never a bare gRPC code).
export function inWords(appName, code, message) {
  const c = String(code || "").toUpperCase();
  const said = {
    UNAVAILABLE: `${appName} did not answer`,
    DEADLINE_EXCEEDED: `${appName} took too long to answer`,
    RESOURCE_EXHAUSTED: `${appName} asked us to slow down (rate limit)`,
    UNAUTHENTICATED: `${appName} refused linkmesh's credentials; an admin should check the app's settings`,
    PERMISSION_DENIED: `${appName} refused linkmesh's credentials; an admin should check the app's settings`,
    NOT_FOUND: `${appName} no longer has this customer`,
    INTERNAL: `${appName} answered with an error`,
    UNKNOWN: `${appName} answered with an error`,
  }[c];
  const words = ownWords(message);
  return sentence(said ? `${said}${words ? ` (${words})` : ""}` : `${appName}: ${words || humanize(c)}`);
}

// An action's answer is shown at the form that ran it, and kept there when the profile is
// drawn again (state.results, per app and action, forgotten when another customer opens).
export function actionResult(result) {
  const detail = (result.result || {}).detail;
  const urls = Object.entries(result.result || {}).filter(([, v]) => /^https?:\/\//.test(v));
  const how = result.resolution === "resolved" ? " (its answer was lost; confirmed from the system's own records)"
    : result.replayed ? " (answered again)" : "";
  return { error: false, text: `${result.message}${detail ? ` — ${detail}` : ""}${how}`, urls };
}

// An action whose outcome is unknown (502 outcome_unknown): linkmesh asks the system's own records
// whether it went through, and the same request with the same key answers once it knows. The
// agent sees that it is being checked, then the outcome; never a second run under a new key.
export async function followUnknown(customerId, body, key, resultKey, appName, error) {
  let last = error;
  for (let round = 0; round < 20 && last instanceof ApiError && last.code === "outcome_unknown" && last.retryAfter; round++) {
    settle(resultKey, { error: false, urls: [], text: `Not confirmed yet: checking ${appName}'s own records whether it went through…` });
    await new Promise((resolve) => setTimeout(resolve, Math.min(last.retryAfter, 30) * 1000));
    try {
      const result = await api("POST", `/api/v1/customers/${customerId}/actions`, body, { "Idempotency-Key": key });
      state.results.set(resultKey, actionResult(result));
      await openProfile(customerId, result.customer);
      return null;
    } catch (next) {
      last = next;
    }
  }
  return last;
}

function paintResult(box, entry) {
  box.className = entry ? (entry.error ? "result error" : "result ok") : "result";
  fill(box, ...(entry ? [el("span", {}, sentence(entry.text)),
    ...entry.urls.map(([name, url]) => el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name === "url" ? "Open" : humanize(name)))] : []));
}

export function resultBox(key) {
  const box = el("div", { class: "result", role: "status", "aria-live": "polite", "data-result": key });
  paintResult(box, state.results.get(key));
  return box;
}

export function settle(key, entry) {
  state.results.set(key, entry);
  for (const box of document.querySelectorAll(`[data-result="${CSS.escape(key)}"]`)) paintResult(box, entry);
}

export async function connectors() {
  if (!state.connectors) {
    const answer = await api("GET", "/api/v1/connectors");
    state.connectors = Object.fromEntries(answer.connectors.map((c) => [c.type, c]));
  }
  return state.connectors;
}

// A table scrolls within its own box when the window is narrower than its words (a word is never split).
export function table(headers, rows) {
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))))));
}

// A menu closed until asked: a disclosure whose items are buttons; choosing one closes it.
// Escape or a click elsewhere closes every open menu.
export function menu(label, name, items, compact = false) {
  const usable = items.filter(Boolean);
  if (!usable.length) return null;
  const box = el("details", { class: compact ? "menu compact" : "menu" }, el("summary", { "aria-label": name, title: name }, label),
    el("div", { class: "menu-items", role: "group", "aria-label": name }, usable.map((item) => el("button", {
      type: "button", class: item.danger ? "danger" : null, onclick: (e) => {
        box.open = false;
        guarded(() => busy(e.currentTarget, () => item.run()));
      } }, item.label))));
  return box;
}

document.addEventListener("click", (event) => {
  for (const open of document.querySelectorAll("details.menu[open]")) if (!open.contains(event.target)) open.open = false;
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const open of document.querySelectorAll("details.menu[open]")) {
    open.open = false;
    open.querySelector("summary").focus();
  }
});

// Where a record's action forms open (the form slot) and what they answered stays (one box per key).
export function holder(scope, keys) {
  return el("div", { class: "holder", "data-holder": scope }, el("div", { class: "form-slot" }), keys.map(resultBox));
}
