// The profile: the customer's card, each linked system's card (refreshed on its own), unlinking, searching the systems not linked yet.

import { ago, api, busy, confirmAction, connectors, el, fill, guarded, humanize, inWords, link, notice, resultBox, state, when } from "./lib.js";
import { actionForm, orderBlock, partialNote, recordActionButton, returnBlock, transactionsTable } from "./orders.js";

// ---- the profile -------------------------------------------------------------
// Opened as stored at once; then each linked app refreshes on its own and its card is redrawn
// as its answer arrives (or says, in words, why it could not refresh).

export async function openProfile(id, known, refresh = !known) {
  const customer = known || await api("GET", `/api/v1/customers/${encodeURIComponent(id)}?refresh=none`);
  if (!state.customer || state.customer.id !== customer.id) {  // another customer: old answers and results go
    state.results.clear();
    state.searchResults = null;
  }
  state.customer = customer;
  const pending = new Set(refresh ? customer.links.map((l) => l.app_id) : []);
  await renderProfile(customer, pending);
  for (const b of document.querySelectorAll("#directory [data-customer]")) b.setAttribute("aria-current", String(b.dataset.customer === customer.id));
  await Promise.all([...pending].map((appId) => refreshApp(customer.id, appId)));
}

async function refreshApp(customerId, appId) {
  let fresh;
  try {
    fresh = await api("GET", `/api/v1/customers/${encodeURIComponent(customerId)}?refresh=${encodeURIComponent(appId)}`);
  } catch (error) {
    if (!state.customer || state.customer.id !== customerId) return;
    const card = document.querySelector(`#profile [data-app="${CSS.escape(appId)}"] .app-status`);
    if (card) {
      card.removeAttribute("aria-busy");
      card.className = "app-status error";
      const name = state.customer.links.find((l) => l.app_id === appId)?.app_name || "The system";
      fill(card, `Could not check for updates: ${inWords(name, error.code, error.reason || error.message)}. `,
        el("button", { type: "button", class: "link", onclick: () => guarded(() => refreshApp(customerId, appId)) }, "Try again"));
    }
    return;
  }
  if (!state.customer || state.customer.id !== customerId) return;  // another customer opened meanwhile
  const linked = fresh.links.find((l) => l.app_id === appId);
  const links = state.customer.links.map((l) => (l.app_id === appId ? linked : l)).filter(Boolean);
  state.customer = { ...fresh, links };
  await redrawCard(state.customer, linked, appId);
  document.querySelector("#profile .customer")?.replaceWith(customerCard(state.customer));
}

async function redrawCard(customer, linked, appId) {
  const old = document.querySelector(`#profile [data-app="${CSS.escape(appId)}"]`);
  if (!old) return;
  if (!linked) {
    old.remove();
    return;
  }
  old.replaceWith(await renderLink(customer, linked, false));
}


function appStatus(linked, pending) {
  if (pending) return el("p", { class: "app-status muted", "aria-busy": "true" }, `Checking ${linked.app_name} for updates…`);
  if (linked.stale) {
    return el("p", { class: "app-status stale" }, `Could not refresh: ${inWords(linked.app_name, linked.stale.code, linked.stale.message)}. `,
      `Showing data from ${when(linked.refreshed_at || linked.linked_at)}. `,
      el("button", { type: "button", class: "link", onclick: () => guarded(() => refreshApp(state.customer.id, linked.app_id)) }, "Try again"));
  }
  return el("p", { class: "app-status muted" }, `Updated ${ago(linked.refreshed_at)}`);
}

// Unlink this system only: the others stay; it never auto-links this customer again.
function unlinkOne(customer, linked) {
  return el("button", { type: "button", class: "link danger", "aria-label": `Unlink ${linked.app_name}`, onclick: (e) => guarded(async () => {
    const button = e.currentTarget;
    const ok = await confirmAction(`Unlink ${linked.app_name}?`, [
      el("p", {}, `Its orders, returns and the details pulled from ${linked.app_name} leave this profile; the other systems stay linked.`),
      el("p", {}, "Auto-link will not link it to this customer again; you can still link it by hand."),
    ], `Unlink ${linked.app_name}`, true);
    if (!ok) return;
    await busy(button, async () => {
      const updated = await api("DELETE", `/api/v1/customers/${customer.id}/links/${linked.app_id}`);
      await openProfile(customer.id, updated);
      notice(`Unlinked ${linked.app_name}.`);
    });
  }) }, "Unlink");
}

async function renderLink(customer, linked, pending) {
  const all = await connectors();
  const actions = linked.actions_enabled ? ((all[linked.app_type] || {}).actions) || [] : [];
  const data = linked.data || {};
  const holder = el("div", {}, resultBox(`${linked.app_id}|record`));
  const actionsOf = (list) => (linked.actions_enabled && (list || []).length
    ? el("div", { class: "row" }, list.map((a) => recordActionButton(customer, linked, a, holder))) : null);
  return el("section", { class: linked.stale ? "card app is-stale" : "card app", "data-app": linked.app_id, "aria-label": linked.app_name },
    el("div", { class: "card-head" }, el("h3", {}, linked.app_name),
      el("span", { class: "muted" }, "customer ", link(data.admin_url, linked.external_customer_id)),
      unlinkOne(customer, linked)),
    appStatus(linked, pending),
    (data.custom_attributes || []).length ? el("dl", { class: "attributes" },
      data.custom_attributes.map((a) => [el("dt", {}, a.label || humanize(a.key)), el("dd", {}, link(a.url, a.value))])) : null,
    actionsOf(data.actions),
    holder,
    (data.orders || []).length ? [el("h4", { class: "visually-hidden" }, "Orders"), el("ul", { class: "plain orders", "aria-label": `Orders at ${linked.app_name}` },
      data.orders.map((o) => orderBlock(o, actionsOf)))] : null,
    partialNote(data.partial, "orders"),
    (data.returns || []).length ? el("ul", { class: "plain orders", "aria-label": `Returns at ${linked.app_name}` }, data.returns.map(returnBlock)) : null,
    partialNote(data.partial, "returns"),
    (data.transactions || []).length ? transactionsTable(data.transactions, actionsOf) : null,
    actions.length ? el("details", { class: "actions", open: true }, el("summary", {}, "Actions"), actions.map((spec) => actionForm(customer, linked, spec))) : null,
  );
}

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
  const said = row.status === "searching" ? el("span", { class: "muted" }, "searching…")
    : row.status === "failed" ? [el("span", { class: "error" }, row.error), " ", el("button", { type: "button", onclick: () => retry(row) }, "Try again")]
      : el("span", { class: "muted" }, row.results.length ? `found ${row.results.length}` : "no match");
  return el("li", { "data-app": row.app_id }, el("strong", {}, row.app_name), " ", said);
}

// Search every system the customer is not linked to yet, or one: each system is asked on its
// own, so its results show as they arrive (a slow system holds up nobody). The results stay after
// a link, the linked one marked, so an agent can see what was done.
function searchPanel(customer) {
  const id = (n) => `search-${n}`;
  const email = el("input", { id: id("email"), name: "email", type: "email", value: customer.emails[0] || "", autocomplete: "off" });
  const phone = el("input", { id: id("phone"), name: "phone", type: "tel", value: customer.phones[0] || "", autocomplete: "off" });
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
      state.searchResults = { customerId: customer.id, rows: new Map(), skipped: [{ app_name: "Search", reason: "give an email, a phone or an order number" }] };
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
  return el("section", { class: "card search", "aria-label": "Search systems not linked yet" }, el("h3", {}, "Search systems not linked yet"),
    el("form", { onsubmit: (e) => guarded(() => busy(button, () => run(e))) },
      el("label", { for: id("system") }, "System", system),
      el("label", { for: id("email") }, "Email", email), el("label", { for: id("phone") }, "Phone", phone),
      el("label", { for: id("order") }, "Order number", order), button), out);
}

function customerCard(customer) {
  const appName = Object.fromEntries(customer.links.map((l) => [l.app_id, l.app_name]));
  const from = (field) => (customer.sources[field] ? el("span", { class: "from" }, `from ${appName[customer.sources[field]] || "an app no longer linked"}`) : null);
  const labels = {};
  for (const l of customer.links) for (const a of (l.data && l.data.custom_attributes) || []) labels[a.key] = a.label;
  const address = customer.address ? [customer.address.line1, customer.address.line2, customer.address.city, customer.address.region,
    customer.address.postal_code, customer.address.country_code].filter(Boolean).join(", ") : "";
  const attributes = Object.entries(customer.custom_attributes || {});
  const unlink = customer.links.length ? el("button", { type: "button", class: "danger", onclick: (e) => guarded(async () => {
    const button = e.currentTarget;
    const names = customer.links.map((l) => l.app_name);
    const ok = await confirmAction(`Unlink ${names.join(", ")}?`, [
      el("p", {}, "Their orders, returns and the details pulled from them leave this profile."),
      el("p", {}, "Auto-link will not link these systems to this customer again; you can still link them by hand."),
    ], `Unlink ${names.length === 1 ? names[0] : `${names.length} systems`}`, true);
    if (!ok) return;
    await busy(button, async () => {
      const updated = await api("DELETE", `/api/v1/customers/${customer.id}/links`);
      await openProfile(customer.id, updated);
      notice(`Unlinked ${names.join(", ")}.`);
    });
  }) }, "Unlink all") : null;
  return el("section", { class: "card customer", "aria-label": "Customer" },
    el("div", { class: "card-head" }, el("h2", {}, customer.name || "Unnamed customer"), from("name")),
    el("p", {}, [...customer.emails, ...customer.phones].join(" · ") || el("span", { class: "muted" }, "No email or phone")),
    address ? el("p", {}, address, from("address")) : null,
    customer.last_contact_at ? el("p", { class: "muted" }, `Last contact ${ago(customer.last_contact_at)}`) : null,
    attributes.length ? el("dl", { class: "attributes" }, attributes.map(([k, v]) => [
      el("dt", {}, labels[k] || humanize(k)), el("dd", {}, /^https?:\/\//.test(v) ? link(v) : v, from(`custom_attributes.${k}`) || el("span", { class: "from" }, "set by an agent"))])) : null,
    el("div", { class: "row" },
      el("button", { type: "button", onclick: (e) => guarded(() => busy(e.currentTarget, () => openProfile(customer.id))) }, "Refresh"),
      unlink));
}

async function renderProfile(customer, pending = new Set()) {
  const links = await Promise.all(customer.links.map((l) => renderLink(customer, l, pending.has(l.app_id))));
  fill(document.getElementById("profile"), ...[
    customerCard(customer),
    customer.links.length ? null : el("p", { class: "muted" }, "Not linked to any system yet: search below."),
    ...links,
    searchPanel(customer),
  ].filter(Boolean));
}
