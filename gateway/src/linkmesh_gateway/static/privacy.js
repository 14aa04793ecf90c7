// A person's data on request (admins): everything linkmesh holds about a customer downloaded as
// one JSON file, and the customer erased after a confirmation that says what goes and what stays.

import { api, el, fill, notice, state, confirmAction, ApiError } from "./lib.js";
import { stopWatching } from "./live.js";

export async function exportCustomer(customer) {
  const response = await fetch(`/api/v1/customers/${encodeURIComponent(customer.id)}/export`, {
    headers: { Authorization: `Bearer ${state.token}` },
  });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: `linkmesh-customer-${customer.id}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  notice(`Exported everything linkmesh holds about ${customer.name || "this customer"} (the export is in the audit log).`);
}

export async function eraseCustomer(customer) {
  const who = customer.name || "this customer";
  const ok = await confirmAction(`Erase ${who}?`, [
    el("p", {}, "Removed from linkmesh for good: the profile and its details, the links and everything pulled from the linked systems, "
      + "lookup traces, queued auto-links and change events naming them."),
    el("p", {}, "Kept without their data: audit entries (they say the customer was erased, and when) and order actions "
      + "(which order, how much, how it ended), for your accounts."),
    el("p", {}, "Their records in the commerce systems are not touched. If they write in again, they are a new customer."),
  ], `Erase ${who}`, true);
  if (!ok) return;
  const done = await api("POST", `/api/v1/customers/${encodeURIComponent(customer.id)}/erase`);
  stopWatching();
  state.customer = null;
  fill(document.getElementById("profile"), el("p", { class: "muted" }, "The customer was erased."));
  const removed = Object.values(done.removed).reduce((a, b) => a + b, 0);
  const kept = Object.values(done.pseudonymised).reduce((a, b) => a + b, 0);
  notice(`Erased ${who}: ${removed} records removed, ${kept} kept without their data.`);
}
