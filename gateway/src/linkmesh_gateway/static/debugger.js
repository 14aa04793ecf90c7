// The lookup log across every app (or one) and the dry run of a lookup (admins, developers).

import { api, busy, el, fill, guarded, humanize, inWords, state } from "./lib.js";

// Times to the second: the log is read to tell calls apart.
const SECOND = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function stamp(ts) {
  return ts ? SECOND.format(new Date(ts)) : "";
}

function traceOutcome(t) {
  if (t.decision) return el("span", { class: `badge ${t.decision === "linked" ? "ok" : "warn"}` }, humanize(t.decision));
  return el("span", { class: `badge ${t.code === "OK" ? "ok" : "bad"}` }, t.code === "OK" ? "Answered" : humanize(t.code));
}

// A customer named in the log: choosing the name shows only that customer's lookups.
function customerCell(t, onCustomer) {
  if (!t.customer_id) return "";
  const name = t.customer_name || "A customer no longer held";
  return onCustomer ? el("button", { type: "button", class: "link", title: "Show only this customer's lookups", onclick: () => onCustomer(t.customer_id, name) }, name) : name;
}

// Each lookup is a row; its request and answer open in a row of their own, the table's full width.
function traceRows(traces, onCustomer, body = el("tbody")) {
  for (const t of traces) {
    const detail = el("tr", { class: "trace-detail", hidden: true }, el("td", { colspan: "8" }, el("div", { class: "trace-json" },
      el("div", {}, el("p", { class: "muted" }, "Sent (secrets redacted)"), el("pre", { class: "json" }, JSON.stringify(t.request || {}, null, 2))),
      el("div", {}, el("p", { class: "muted" }, "Answered"), el("pre", { class: "json" }, t.response ? JSON.stringify(t.response, null, 2) : "(nothing)")))));
    const open = el("button", { type: "button", "aria-expanded": "false", onclick: () => {
      detail.hidden = !detail.hidden;
      open.setAttribute("aria-expanded", String(!detail.hidden));
    } }, "Show");
    body.append(el("tr", {}, [stamp(t.at), t.app_name || el("span", { class: "muted" }, "A deleted app"), humanize(t.kind), customerCell(t, onCustomer),
      traceOutcome(t), t.code === "OK" ? t.reason : inWords(t.app_name || "The app", t.code, t.message) || t.reason, Math.round(t.latency_ms), open]
      .map((c) => el("td", {}, c))), detail);
  }
  return body;
}

function traceTable(traces, onCustomer) {
  return el("table", { class: "log" }, el("thead", {}, el("tr", {}, ["When", "App", "Kind", "Customer", "Outcome", "Why", "ms", "Request and answer"]
    .map((h) => el("th", { scope: "col" }, h)))), traceRows(traces, onCustomer));
}

// The customer the log is narrowed to, said beside the filters with a way back to everyone.
function customerChip(filters, rerun) {
  const chip = document.getElementById("log-customer");
  if (!state.logCustomer) return fill(chip);
  fill(chip, el("span", { class: "chip" }, `Customer: ${state.logCustomer.name}`,
    el("button", { type: "button", class: "link", "aria-label": "Show every customer's lookups", onclick: () => { state.logCustomer = null; rerun(); } }, "✕")));
}

let latest = 0;  // only the last asked of overlapping reads is shown (a tab opened, then filters sent)

export async function showLog(filters, holder, pageToken = "") {
  const mine = pageToken ? latest : ++latest;
  if (!pageToken) fill(holder, el("p", { class: "muted", "aria-busy": "true" }, "Reading the log…"));
  const rerun = () => guarded(() => showLog(filters, holder));
  const onCustomer = (id, name) => { state.logCustomer = { id, name }; rerun(); };
  customerChip(filters, rerun);
  const query = new URLSearchParams({ limit: "25" });
  for (const name of ["app_id", "kind", "outcome"]) if (filters[name]) query.set(name, filters[name]);
  if (state.logCustomer) query.set("customer_id", state.logCustomer.id);
  if (pageToken) query.set("page_token", pageToken);
  const page = await api("GET", `/api/v1/lookups?${query}`);
  if (mine !== latest) return;
  const circuit = !page.circuit || page.circuit.state === "closed" ? null
    : el("p", { class: "warn" }, `Calls to this app are paused after ${page.circuit.consecutive_failures} failures (${page.circuit.last_error}).`);
  const older = page.next_page_token
    ? el("button", { type: "button", class: "pager", onclick: (e) => guarded(() => busy(e.currentTarget, () => showLog(filters, holder, page.next_page_token))) }, "Older")
    : null;
  if (pageToken) {
    traceRows(page.lookups, onCustomer, holder.querySelector("tbody"));
    holder.querySelector(".pager")?.replaceWith(older || "");
    return;
  }
  fill(holder, el("section", { class: "card", "aria-label": "Lookup log" }, el("h3", {}, "Lookups, newest first"), circuit,
    page.lookups.length ? traceTable(page.lookups, onCustomer) : el("p", { class: "muted" }, "No lookup matches these filters."), older));
}

export async function dryRun(form) {
  const answer = await api("POST", "/api/v1/debugger/lookup", {
    app_id: form.app_id.value, email: form.email.value.trim(), phone: form.phone.value.trim(), workflow: form.workflow.value,
  });
  fill(document.getElementById("debug-result"), el("section", { class: "card", "aria-label": "Dry run" },
    el("h3", {}, answer.would_link ? `Would link ${answer.external_customer_id}` : "Would not link"), el("p", {}, answer.reason), traceTable(answer.steps, null)));
}
