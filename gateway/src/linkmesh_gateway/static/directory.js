// Finding a customer: the directory (recent, or a search by name, email, phone or order number), a contact, a new customer.

import { SIDEBAR, ago, api, busy, el, fill, guarded, inWords, link, state, when } from "./lib.js";
import { openProfile } from "./profile.js";

// ---- finding a customer ------------------------------------------------------

const MATCHED = { recent: "", name: "name", email: "email", phone: "phone", order: "order number" };

export async function showDirectory(query = "", more = false) {
  const holder = document.getElementById("directory");
  const params = new URLSearchParams({ limit: "10" });
  if (query) params.set("query", query);
  if (more && state.directory.token) params.set("page_token", state.directory.token);
  const asked = (state.directorySeq = (state.directorySeq || 0) + 1);
  const page = await api("GET", `/api/v1/customer-directory?${params}`);
  if (asked !== state.directorySeq) return;  // a later search was asked meanwhile: its answer is the one shown
  state.directory = { query, token: page.next_page_token };
  const list = more ? holder.querySelector("ul") : el("ul", { class: "plain directory" });
  for (const c of page.customers) {
    const current = state.customer && state.customer.id === c.id;
    const phone = (c.phones_formatted || c.phones)[0];
    // Who, how to reach them, the systems they are linked to, when they last wrote: side by side
    // when the directory has the width (no customer open), one under the other in a column.
    list.append(el("li", {}, el("button", { type: "button", "aria-current": current ? "true" : false, "data-customer": c.id,
      onclick: (event) => guarded(() => busy(event.currentTarget, () => openProfile(c.id))) },
      el("span", { class: "who" }, c.name || c.emails[0] || phone || "Unnamed customer"),
      el("span", { class: "muted reach" }, [c.emails[0], phone].filter(Boolean).join(" · ")),
      el("span", { class: "muted linked" }, c.linked_apps.length ? `Linked: ${c.linked_apps.join(", ")}` : "Not linked"),
      el("span", { class: "muted seen" }, [c.last_contact_at ? `Contacted ${ago(c.last_contact_at)}` : "",
        MATCHED[c.matched] ? `found by ${MATCHED[c.matched]}` : ""].filter(Boolean).join(" · ")))));
  }
  const heading = query ? `Customers matching “${query}”` : "Recent customers";
  const pager = page.next_page_token
    ? el("button", { type: "button", class: "pager", onclick: (e) => guarded(() => busy(e.currentTarget, () => showDirectory(query, true))) }, "Show more")
    : null;
  if (more) {
    holder.querySelector(".pager")?.remove();
    if (pager) holder.append(pager);
    return;
  }
  fill(holder, el("h2", {}, heading),
    page.customers.length ? list : el("p", { class: "muted" }, query ? "No customer matches. Try another spelling, or record a contact." : "No customer has contacted in yet."),
    pager);
}

export function contactFields(form) {
  return { email: form.email.value.trim(), phone: form.phone.value.trim(), name: form.name.value.trim() };
}

export async function createCustomer(form) {
  const { email, phone, name } = contactFields(form);
  const customer = await api("POST", "/api/v1/customers", { name, emails: email ? [email] : [], phones: phone ? [phone] : [] });
  fill(document.getElementById("contact-result"), el("p", { class: "ok" }, `Added ${customer.name || "the customer"}.`));
  await openProfile(customer.id, customer);
  await showDirectory(state.directory.query);
}

// A contact: the customer is found or made, auto-link runs and linked apps refresh. What
// failed is said in words with a retry; a system that answered without a unique match is told
// apart from one that failed.
export async function recordContact(contact) {
  const holder = document.getElementById("contact-result");
  fill(holder, el("p", { class: "muted", "aria-busy": "true" }, "Recording the contact and looking in every system…"));
  const result = await api("POST", "/api/v1/contacts", contact);
  // The profile as the contact left it (its apps just refreshed), named from it.
  const customer = await api("GET", `/api/v1/customers/${encodeURIComponent(result.customer_id)}?refresh=none`);
  const names = Object.fromEntries(customer.links.map((l) => [l.app_id, l.app_name]));
  const name = (id) => names[id] || "an app no longer linked";
  const failed = result.not_linked.filter((m) => m.code);
  const unmatched = result.not_linked.filter((m) => !m.code);
  const retry = el("button", { type: "button", onclick: (e) => guarded(() => busy(e.currentTarget, () => recordContact(contact))) }, "Try again");
  fill(holder, el("div", { class: "card" },
    el("p", {}, result.created ? "New customer." : "Returning customer.",
      result.linked.length ? ` Linked to ${result.linked.map(name).join(", ")}.` : ""),
    failed.map((m) => el("p", { class: "error" }, `Could not look in ${m.app_name}: ${inWords(m.app_name, m.code, m.reason)}.`)),
    unmatched.length ? el("p", { class: "muted" }, unmatched.map((m) => `${m.app_name}: ${m.reason}`).join(" · ")) : null,
    result.pending.map((id) => el("p", { class: "warn" }, `${name(id)} is rate limiting; linking will finish when it takes requests again.`)),
    result.stale.map((s) => el("p", { class: "warn" }, `${name(s.app_id)}: could not refresh (${inWords(name(s.app_id), s.code, s.message)}); showing its last data.`)),
    failed.length || result.stale.length ? retry : null));
  await openProfile(result.customer_id, customer, false);
  if (!SIDEBAR) await showDirectory(state.directory.query);
}
