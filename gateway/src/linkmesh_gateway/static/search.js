// Searching the systems a customer is not linked to yet: each system asked on its own, its
// results shown as they arrive, each saying which field matched and who holds it already.

import { api, busy, el, fill, guarded, humanize, inWords, state } from "./lib.js";
import { openProfile } from "./profile.js";

// One found record: what it is, which field matched, and who holds it already (a record another
// customer holds cannot be linked here, so it is named instead of offered).
function resultItem(customer, r, linkedIds) {
  const done = linkedIds.has(`${r.app_id}|${r.external_customer_id}`);
  const held = r.linked_to ? el("span", { class: "muted held" }, "Linked to ",
    el("button", { type: "button", class: "link", onclick: () => guarded(() => openProfile(r.linked_to.customer_id)) }, r.linked_to.customer_name || "another customer")) : null;
  return el("li", {}, el("span", {}, el("strong", {}, r.app_name), " ",
    el("span", { class: "muted" }, r.attributes.map((a) => `${a.label}: ${a.value}`).join(" · ")),
    r.matched ? el("span", { class: "muted" }, ` · matched by ${humanize(r.matched).toLowerCase()}`) : null),
  done ? el("span", { class: "linked-mark" }, "Linked ✓") : held || el("button", { type: "button", onclick: (e) => guarded(() => busy(e.currentTarget, async () => {
    const updated = await api("POST", `/api/v1/customers/${customer.id}/links`, { app_id: r.app_id, external_customer_id: r.external_customer_id });
    state.searchResults.linkedNote = `Linked ${r.app_name} customer ${r.external_customer_id}.`;
    await openProfile(customer.id, updated);
  })) }, "Link"));
}

// Where each system's search stands: searching, found N, no match, or failed with Try again.
function systemLine(row, retry) {
  const said = row.status === "searching" ? el("span", { class: "muted" }, "Searching…")
    : row.status === "failed" ? [el("span", { class: "error" }, row.error), " ", el("button", { type: "button", onclick: () => retry(row) }, "Try again")]
      : el("span", { class: "muted" }, row.results.length ? `Found ${row.results.length}` : "No match");
  return el("li", { "data-app": row.app_id }, el("strong", {}, row.app_name), ": ", said);
}

// Search every system the customer is not linked to yet, or one: each system is asked on its
// own, so its results show as they arrive (a slow system holds up nobody). The results stay after
// a link, the linked one marked, so an agent can see what was done.
export function searchPanel(customer) {
  const id = (n) => `search-${n}`;
  const email = el("input", { id: id("email"), name: "email", type: "email", value: customer.emails[0] || "", autocomplete: "off" });
  const phone = el("input", { id: id("phone"), name: "phone", type: "tel", value: (customer.phones_formatted || customer.phones)[0] || "", autocomplete: "off" });
  const order = el("input", { id: id("order"), name: "order_number", autocomplete: "off" });
  const system = el("select", { id: id("system"), name: "app_id" }, el("option", { value: "all" }, "Every system not linked yet"));
  const button = el("button", { type: "submit" }, "Search");
  // Asked once per customer and set of links (the profile is redrawn as each refresh arrives).
  const key = `${customer.id}|${customer.links.map((l) => l.app_id).join(",")}`;
  if (state.searchTargets?.key !== key) {
    state.searchTargets = { key, answer: api("GET", `/api/v1/customers/${customer.id}/search-targets`) };
  }
  state.searchTargets.answer.then((answer) => {
    if (!answer.targets.length) {  // nothing left to search: not offered
      fill(system, el("option", { value: "" }, customer.links.length ? "Every system is linked already" : "No system to search yet"));
      system.disabled = button.disabled = true;
    }
    for (const t of answer.targets) {
      system.append(el("option", { value: t.app_id }, `${t.app_name} (${t.search_fields.map((f) => humanize(f).toLowerCase()).join(", ")})`));
    }
  }).catch(() => { state.searchTargets = null; });
  const out = el("div", { "aria-live": "polite" });
  const draw = () => {
    const s = state.searchResults;
    if (!s || s.customerId !== customer.id) return fill(out);
    const linkedIds = new Set(state.customer.links.map((l) => `${l.app_id}|${l.external_customer_id}`));
    const rows = [...s.rows.values()];
    const found = rows.flatMap((row) => row.results);
    const settled = rows.every((row) => row.status !== "searching");
    fill(out,
      el("ul", { class: "plain search-systems", "aria-label": "Systems searched" }, rows.map((row) => systemLine(row, (r) => guarded(() => ask(r))))),
      found.length ? el("ul", { class: "plain results-list" }, found.map((r) => resultItem(customer, r, linkedIds)))
        : settled ? el("p", { class: "muted" }, "No system found a match.") : null,
      s.linkedNote ? el("p", { class: "ok", role: "status" }, s.linkedNote) : null,
      s.skipped.map((k) => el("p", { class: "muted" }, `${k.app_name}: ${k.reason}`)));
  };
  const ask = async (row) => {
    Object.assign(row, { status: "searching", results: [], error: "" });
    draw();
    try {
      const answer = await api("POST", `/api/v1/customers/${customer.id}/external-search`, { ...row.query, app_id: row.app_id });
      const failure = answer.failures[0];
      Object.assign(row, failure ? { status: "failed", error: inWords(failure.app_name || row.app_name, failure.code, failure.message) }
        : { status: "done", results: answer.results });
    } catch (err) {
      Object.assign(row, { status: "failed", error: err.reason || err.message });
    }
    draw();
  };
  const run = async (event) => {
    event.preventDefault();
    const query = { email: email.value.trim(), phone: phone.value.trim(), ...(order.value.trim() ? { order_number: order.value.trim() } : {}) };
    if (!query.email && !query.phone && !query.order_number) {
      state.searchResults = { customerId: customer.id, rows: new Map(), skipped: [{ app_name: "Search", reason: "Give an email, a phone or an order number" }] };
      return draw();
    }
    const params = new URLSearchParams(query);
    const targets = await api("GET", `/api/v1/customers/${customer.id}/search-targets?${params}`);
    const chosen = system.value === "all" ? targets.targets : targets.targets.filter((t) => t.app_id === system.value);
    state.searchResults = { customerId: customer.id, skipped: system.value === "all" ? targets.skipped || [] : [],
      rows: new Map(chosen.map((t) => [t.app_id, { app_id: t.app_id, app_name: t.app_name, query, status: "searching", results: [], error: "" }])) };
    draw();
    await Promise.all([...state.searchResults.rows.values()].map(ask));
  };
  draw();
  // Closed until asked, but for a customer not linked anywhere yet or while results are shown.
  const open = !customer.links.length || Boolean(state.searchResults && state.searchResults.customerId === customer.id) || state.searchOpen === customer.id;
  const box = el("details", { class: "card search", open, ontoggle: () => { state.searchOpen = box.open ? customer.id : null; } },
    el("summary", {}, el("h3", {}, "Search systems not linked yet")),
    el("form", { "aria-label": "Search systems not linked yet", onsubmit: (e) => guarded(() => busy(button, () => run(e))) },
      el("label", { for: id("system") }, "System", system),
      el("label", { for: id("email") }, "Email", email), el("label", { for: id("phone") }, "Phone", phone),
      el("label", { for: id("order") }, "Order number", order), button), out);
  return box;
}

