// The lookup log and debugger, and the audit log (admins).

import { api, busy, el, fill, guarded, humanize, link, state, table, when } from "./lib.js";

// ---- lookup log and debugger -------------------------------------------------

function traceOutcome(t) {
  if (t.decision) return el("span", { class: `badge ${t.decision === "linked" ? "ok" : "warn"}` }, humanize(t.decision));
  return el("span", { class: `badge ${t.code === "OK" ? "ok" : "bad"}` }, t.code === "OK" ? "Answered" : humanize(t.code));
}

function traceRows(traces) {
  return table(["When", "Kind", "Customer", "Outcome", "Why", "ms", "Request and answer"], traces.map((t) => [
    when(t.at), humanize(t.kind), t.customer_id ? el("span", { class: "code" }, t.customer_id) : "", traceOutcome(t), t.reason || t.message,
    Math.round(t.latency_ms), el("details", {}, el("summary", {}, "Show"),
      el("p", { class: "muted" }, "Sent (secrets redacted)"), el("pre", { class: "json" }, JSON.stringify(t.request || {}, null, 2)),
      el("p", { class: "muted" }, "Answered"), el("pre", { class: "json" }, t.response ? JSON.stringify(t.response, null, 2) : "(nothing)")),
  ]));
}

export async function showLog(filters, holder, pageToken = "") {
  const query = new URLSearchParams({ limit: "25" });
  for (const name of ["customer_id", "kind", "outcome"]) if (filters[name]) query.set(name, filters[name]);
  if (pageToken) query.set("page_token", pageToken);
  const page = await api("GET", `/api/v1/apps/${encodeURIComponent(filters.app_id)}/lookups?${query}`);
  const circuit = page.circuit.state === "closed" ? null
    : el("p", { class: "warn" }, `Calls to this app are paused after ${page.circuit.consecutive_failures} failures (${page.circuit.last_error}).`);
  const older = page.next_page_token
    ? el("button", { type: "button", class: "pager", onclick: (e) => guarded(() => busy(e.currentTarget, () => showLog(filters, holder, page.next_page_token))) }, "Older")
    : null;
  if (pageToken) {
    holder.querySelector("tbody").append(...traceRows(page.lookups).querySelectorAll("tbody tr"));
    holder.querySelector(".pager")?.replaceWith(older || "");
    return;
  }
  fill(holder, el("section", { class: "card", "aria-label": "Lookup log" }, el("h3", {}, "Lookups, newest first"), circuit,
    page.lookups.length ? traceRows(page.lookups) : el("p", { class: "muted" }, "No lookup matches these filters."), older));
}

export async function dryRun(form) {
  const answer = await api("POST", "/api/v1/debugger/lookup", {
    app_id: form.app_id.value, email: form.email.value.trim(), phone: form.phone.value.trim(), workflow: form.workflow.value,
  });
  fill(document.getElementById("debug-result"), el("section", { class: "card", "aria-label": "Dry run" },
    el("h3", {}, answer.would_link ? `Would link ${answer.external_customer_id}` : "Would not link"), el("p", {}, answer.reason), traceRows(answer.steps)));
}

// The audit log (admins): every write, its verified author and outcome, newest first.
export async function showAudit(form, pageToken = "") {
  const holder = document.getElementById("audit-result");
  if (state.role && state.role !== "admin") {
    fill(holder, el("p", { class: "muted" }, "The audit log is for admins."));
    return;
  }
  const query = new URLSearchParams({ limit: "25" });
  for (const name of ["customer_id", "app_id", "action", "actor_id"]) if (form[name].value.trim()) query.set(name, form[name].value.trim());
  if (pageToken) query.set("page_token", pageToken);
  const page = await api("GET", `/api/v1/audit?${query}`);
  const who = (a) => `${a.name}${a.on_behalf_of ? ` for ${a.on_behalf_of}` : ""} (${a.role || a.kind})`;
  const details = (d) => Object.entries(d || {}).map(([k, v]) => `${humanize(k)}: ${v}`).join("; ");
  fill(holder, el("section", { class: "card", "aria-label": "Audit log" }, el("h3", {}, "Audit log"),
    table(["When", "Who", "What", "Customer", "App", "Order", "Outcome", "Details"], page.entries.map((e) => [
      when(e.at), who(e.actor), e.action, e.customer_id, e.app_id, e.order_id,
      e.outcome === "ok" ? el("span", { class: "badge ok" }, "OK") : el("span", {}, el("span", { class: "badge bad" }, humanize(e.outcome)), ` ${e.message}`),
      details(e.details),
    ])),
    page.next_page_token ? el("button", { type: "button", onclick: () => guarded(() => showAudit(form, page.next_page_token)) }, "Older") : null));
}
