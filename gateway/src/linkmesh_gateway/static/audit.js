// The audit log (admins): every write, its verified author, what it touched (by name), how it
// ended and what it did (the amount refunded, the code created); filtered by choices, not ids.

import { show } from "./console.js";
import { api, el, fill, guarded, humanize, state } from "./lib.js";
import { openProfile } from "./profile.js";
import { stamp } from "./debugger.js";

// Every action the log records (tests/test_console_admin.py holds it to the profile service's list).
export const AUDIT_ACTIONS = {
  "action.run": "Action run",
  "action.resolve": "Unknown outcome resolved",
  "contact.record": "Contact recorded",
  "customer.create": "Customer added",
  "customer.update": "Customer edited",
  "customer.link": "System linked",
  "customer.unlink": "System unlinked",
  "customer.fold": "Duplicate customer folded",
  "customer.export": "Customer's data exported",
  "customer.erase": "Customer erased",
  "app.create": "App added",
  "app.update": "App edited",
  "app.activate": "App activated",
  "app.deactivate": "App deactivated",
  "app.delete": "App deleted",
  "api_key.create": "API key made",
  "api_key.revoke": "API key revoked",
  "debugger.lookup": "Lookup dry run",
  "privacy.data_request": "Data requested (by the system)",
  "privacy.redact": "Data from a system forgotten (its request)",
  "privacy.redact_shop": "A system's data forgotten (its request)",
};

const OUTCOMES = { ok: "Done", invalid_argument: "Refused: invalid", failed_precondition: "Refused: not possible now", not_found: "Not found",
  permission_denied: "Not allowed", already_exists: "Already there", aborted: "Conflict", unavailable: "System unavailable",
  deadline_exceeded: "Timed out", resource_exhausted: "Rate limited", unknown: "Outcome unknown", internal: "Failed" };

// The filter's choices, drawn once the apps and keys are known.
export async function fillAuditChoices(form) {
  const fillSelect = (select, pairs, any) => {
    const chosen = select.value;
    fill(select, el("option", { value: "" }, any), pairs.map(([value, label]) => el("option", { value, selected: value === chosen }, label)));
  };
  fillSelect(form.action, Object.entries(AUDIT_ACTIONS), "Every action");
  fillSelect(form.outcome, Object.entries(OUTCOMES), "Every outcome");
  const keys = await api("GET", "/api/v1/api-keys?include_revoked=true");
  fillSelect(form.actor_id, keys.api_keys.map((k) => [k.id, `${k.name} (${k.role} key)`]), "Anyone");
}

function who(a) {
  return `${a.name}${a.on_behalf_of ? ` for ${a.on_behalf_of}` : ""} (${a.role || a.kind})`;
}

// What an entry did: the result of an action in its own words, then the values it was given.
function what(e) {
  const d = e.details || {};
  const said = d.result ? el("div", {}, d.result) : null;
  const rest = Object.entries(d).filter(([k]) => k !== "result" && !k.startsWith("result.") && k !== "idempotency_key")
    .map(([k, v]) => `${humanize(k.replace(/^param\./, ""))}: ${v}`).join("; ");
  return [said, rest ? el("div", { class: "muted" }, rest) : null];
}

function customerCell(e) {
  if (!e.customer_id) return "";
  const name = e.customer_name || "A customer no longer held";
  if (!e.customer_name) return el("span", { class: "muted" }, name);
  return el("button", { type: "button", class: "link", title: "Open this customer", onclick: () => guarded(async () => {
    show("customers");
    await openProfile(e.customer_id);
  }) }, name);
}

function outcome(e) {
  if (e.outcome === "ok") return el("span", { class: "badge ok" }, "Done");
  return el("span", {}, el("span", { class: "badge bad" }, OUTCOMES[e.outcome] || humanize(e.outcome)), e.message ? el("div", { class: "muted" }, e.message) : null);
}

export function auditForCustomer(customer) {
  state.auditCustomer = { id: customer.id, name: customer.name || customer.emails[0] || "this customer" };
  show("audit");
}

let latest = 0;  // only the last asked of overlapping reads is shown

export async function showAudit(form, pageToken = "") {
  const mine = pageToken ? latest : ++latest;
  const holder = document.getElementById("audit-result");
  if (!pageToken) fill(holder, el("p", { class: "muted", "aria-busy": "true" }, "Reading the log…"));
  if (state.role && state.role !== "admin") {
    fill(holder, el("p", { class: "muted" }, "The audit log is for admins."));
    return;
  }
  fill(document.getElementById("audit-customer"), state.auditCustomer ? el("span", { class: "chip" }, `Customer: ${state.auditCustomer.name}`,
    el("button", { type: "button", class: "link", "aria-label": "Show every customer's entries", onclick: () => {
      state.auditCustomer = null;
      guarded(() => showAudit(form));
    } }, "✕")) : null);
  const query = new URLSearchParams({ limit: "25" });
  for (const name of ["app_id", "action", "actor_id", "outcome"]) if (form[name].value) query.set(name, form[name].value);
  if (state.auditCustomer) query.set("customer_id", state.auditCustomer.id);
  if (pageToken) query.set("page_token", pageToken);
  const page = await api("GET", `/api/v1/audit?${query}`);
  if (mine !== latest) return;
  fill(holder, el("section", { class: "card", "aria-label": "Audit log" }, el("h3", {}, "Entries, newest first"),
    page.entries.length ? el("table", { class: "log" }, el("thead", {}, el("tr", {}, ["When", "Who", "Did", "Customer", "App", "Order", "Outcome", "What"]
      .map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, page.entries.map((e) => el("tr", {}, [
      stamp(e.at), who(e.actor), AUDIT_ACTIONS[e.action] || e.action, customerCell(e), e.app_id ? e.app_name || el("span", { class: "muted" }, "A deleted app") : "",
      e.order_id ? el("span", { class: "code" }, e.order_id) : "", outcome(e), what(e)].map((c) => el("td", {}, c))))))
      : el("p", { class: "muted" }, "No entry matches these filters."),
    page.next_page_token ? el("button", { type: "button", onclick: () => guarded(() => showAudit(form, page.next_page_token)) }, "Older") : null));
}
