// The profile: the customer, the answer at a glance, each linked system's card (refreshed on its
// own) with its records as one-line rows and its actions in menus, and searching the systems not
// linked yet.

import { actionForm, appliesTo, openIn, openRecordAction, resultKey } from "./actions.js";
import { auditForCustomer } from "./audit.js";
import { agoText, liveBadge, watchProfile } from "./live.js";
import { api, busy, confirmAction, connectors, el, fill, guarded, holder, humanize, inWords, link, menu, notice, orderRef, state, when } from "./lib.js";
import { eraseCustomer, exportCustomer } from "./privacy.js";
import { orderRow, partialNote, returnRow, transactionRow } from "./records.js";
import { searchPanel } from "./search.js";
import { summaryCard } from "./summary.js";

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
  state.pending = new Set(pending);
  await renderProfile(customer, pending);
  for (const b of document.querySelectorAll("#directory [data-customer]")) b.setAttribute("aria-current", String(b.dataset.customer === customer.id));
  watchProfile(customer.id, (revision) => revised(customer.id, revision));
  await Promise.all([...pending].map((appId) => refreshApp(customer.id, appId)));
}

// A revision of the open profile came (a vendor's change event applied, another agent's work, an
// action): a newer one than shown is read as stored and drawn again; each card only if its own
// data changed, keeping what the agent opened and typed.
async function revised(customerId, revision) {
  if (!state.customer || state.customer.id !== customerId) return;
  if (revision.gone) {
    notice("This customer no longer exists.", true);
    return;
  }
  if (!revision.updated_at || revision.updated_at === state.customer.updated_at) return;
  const fresh = await api("GET", `/api/v1/customers/${encodeURIComponent(customerId)}?refresh=none`).catch(() => null);
  if (!fresh || !state.customer || state.customer.id !== customerId) return;
  const before = state.customer;
  state.customer = fresh;
  const same = (a, b) => a.length === b.length && a.every((l, i) => l.app_id === b[i].app_id);
  if (!same(before.links, fresh.links)) {
    await renderProfile(fresh, state.pending);
    return;
  }
  for (const [i, linked] of fresh.links.entries()) {
    if (JSON.stringify(linked) !== JSON.stringify(before.links[i])) await redrawCard(fresh, linked, linked.app_id);
  }
  redrawPart("#profile .customer", customerCard(fresh));
  const summary = summaryCard(fresh, state.pending);
  if (summary) redrawPart("#profile .summary", summary);
}

async function refreshApp(customerId, appId) {
  let fresh;
  try {
    fresh = await api("GET", `/api/v1/customers/${encodeURIComponent(customerId)}?refresh=${encodeURIComponent(appId)}`);
  } catch (error) {
    if (!state.customer || state.customer.id !== customerId) return;
    const card = document.querySelector(`#profile [data-app="${CSS.escape(appId)}"] .app-status`);
    state.pending.delete(appId);
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
  state.pending.delete(appId);
  await redrawCard(state.customer, linked, appId);
  redrawPart("#profile .customer", customerCard(state.customer));
  const summary = summaryCard(state.customer, state.pending);
  if (summary) redrawPart("#profile .summary", summary);
}

// A menu the agent opened stays open, and where the keyboard was in it, when what holds it is
// drawn again (a refresh or a live update landing while they choose): matched by its name.
// Answers what to do once ``fresh`` is in the page (focus can only move there then).
function keepMenus(old, fresh) {
  const named = (m) => m.querySelector(":scope > summary")?.getAttribute("aria-label");
  const focus = [];
  for (const open of old.querySelectorAll("details.menu[open]")) {
    const again = [...fresh.querySelectorAll("details.menu")].find((m) => named(m) === named(open));
    if (!again) continue;
    again.open = true;
    if (!open.contains(document.activeElement)) continue;
    const at = [open.querySelector(":scope > summary"), ...open.querySelectorAll(".menu-items button")].indexOf(document.activeElement);
    focus.push(() => [again.querySelector(":scope > summary"), ...again.querySelectorAll(".menu-items button")][at]?.focus());
  }
  return () => focus.forEach((f) => f());
}

// One part of the profile drawn again in place, its open menus kept.
function redrawPart(selector, fresh) {
  const old = document.querySelector(selector);
  if (!old) return;
  const settle = keepMenus(old, fresh);
  old.replaceWith(fresh);
  settle();
}

// What stays as it was when a card is drawn again: the rows the agent opened, its open menus
// and, when a refresh redraws one card, the action forms open in it (with what was typed).
// Answers what to do once ``fresh`` is in the page.
function keepOpen(old, fresh, forms) {
  const settle = keepMenus(old, fresh);
  const card = (appId) => (fresh.matches(`[data-app="${CSS.escape(appId)}"]`) ? fresh : fresh.querySelector(`[data-app="${CSS.escape(appId)}"]`));
  for (const toggle of old.querySelectorAll(".row-toggle[aria-expanded=true]")) {
    const key = toggle.closest("[data-key]")?.dataset.key;
    const appId = toggle.closest("[data-app]")?.dataset.app;
    const again = key && appId && card(appId)?.querySelector(`[data-key="${CSS.escape(key)}"] .row-toggle`);
    if (again && again.getAttribute("aria-expanded") !== "true") again.click();
  }
  if (!forms) return settle;
  for (const slot of old.querySelectorAll("[data-holder] > .form-slot")) {
    if (!slot.childElementCount) continue;
    const scope = slot.parentElement.dataset.holder;
    fresh.querySelector(`[data-holder="${CSS.escape(scope)}"] > .form-slot`)?.replaceWith(slot);
  }
  return settle;
}

async function redrawCard(customer, linked, appId) {
  const old = document.querySelector(`#profile [data-app="${CSS.escape(appId)}"]`);
  if (!old) return;
  if (!linked) {
    old.remove();
    return;
  }
  const fresh = await renderLink(customer, linked, state.pending.has(appId));
  const settle = keepOpen(old, fresh, true);
  old.replaceWith(fresh);
  settle();
}

function appStatus(linked, pending) {
  if (pending) return el("span", { class: "app-status muted", "aria-busy": "true" }, "Checking for updates…");
  if (linked.stale) {
    return el("p", { class: "app-status stale" }, `Could not refresh: ${inWords(linked.app_name, linked.stale.code, linked.stale.message)}. `,
      `Showing data from ${when(linked.refreshed_at || linked.linked_at)}. `,
      el("button", { type: "button", class: "link", onclick: () => guarded(() => refreshApp(state.customer.id, linked.app_id)) }, "Try again"));
  }
  return el("span", { class: "app-status muted" }, agoText(linked.refreshed_at, "Updated "));
}

// Unlink this system only: the others stay; it never auto-links this customer again.
async function unlinkOne(customer, linked) {
  const ok = await confirmAction(`Unlink ${linked.app_name}?`, [
    el("p", {}, `Its orders, returns and the details pulled from ${linked.app_name} leave this profile; the other systems stay linked.`),
    el("p", {}, "Auto-link will not link it to this customer again; you can still link it by hand."),
  ], `Unlink ${linked.app_name}`, true);
  if (!ok) return;
  const updated = await api("DELETE", `/api/v1/customers/${customer.id}/links/${linked.app_id}`);
  await openProfile(customer.id, updated);
  notice(`Unlinked ${linked.app_name}.`);
}

// A record's menu: the built-in actions that apply to it and its own (a custom adaptor's).
function recordMenu(customer, linked, name, specs, own, box, scope) {
  return menu(scope.compact ? "⋯" : "Actions", name, [
    ...specs.map((spec) => ({ label: spec.label, run: () => openIn(box, actionForm(customer, linked, spec, scope.order, box)) })),
    ...(linked.actions_enabled && state.role === "agent" ? own || [] : []).map((a) => ({ label: a.name, run: () => openRecordAction(customer, linked, a, box, scope.key) })),
  ], scope.compact);
}

function orderRows(customer, linked, specs) {
  const orders = (linked.data && linked.data.orders) || [];
  return orders.map((o) => {
    const box = holder(`${linked.app_id}|order|${o.id}`, [...specs.map((s) => resultKey(linked, s.name, o.id)), resultKey(linked, "record", o.id)]);
    const usable = specs.filter((s) => appliesTo(s, o));
    return orderRow(linked, o, recordMenu(customer, linked, `Actions for order ${orderRef(o)}`, usable, o.actions, box, { order: o, key: o.id, compact: true }), box);
  });
}

async function renderLink(customer, linked, pending) {
  const all = await connectors();
  const agent = state.role === "agent";  // an admin reads a profile from the audit log, and changes nothing
  const specs = linked.actions_enabled && agent ? ((all[linked.app_type] || {}).actions) || [] : [];
  const data = linked.data || {};
  const orders = data.orders || [];
  // An action on an order is in that order's menu; one on the customer (or an order typed in,
  // where the system shows none) is in the card's.
  const onOrders = specs.filter((s) => s.order_required && orders.length);
  const onCustomer = specs.filter((s) => !onOrders.includes(s));
  const box = holder(`${linked.app_id}|customer`, [...onCustomer.map((s) => resultKey(linked, s.name)), resultKey(linked, "record")]);
  const own = recordMenu(customer, linked, `Actions for this customer at ${linked.app_name}`, onCustomer, data.actions, box, { order: null, key: "" });
  const transactions = (data.transactions || []).map((t) => {
    const tBox = holder(`${linked.app_id}|record|${t.id || t.title}`, [resultKey(linked, "record", t.id || t.title)]);
    return transactionRow(t, recordMenu(customer, linked, `Actions for ${t.title}`, [], t.actions, tBox, { order: null, key: t.id || t.title, compact: true }), tBox);
  });
  const nothing = !orders.length && !(data.returns || []).length && !transactions.length;
  return el("section", { class: linked.stale ? "card app is-stale" : "card app", "data-app": linked.app_id, "aria-label": linked.app_name },
    el("div", { class: "card-head" }, el("h3", {}, linked.app_name),
      el("span", { class: "muted" }, "customer ", link(data.admin_url, linked.external_customer_id)),
      linked.stale ? null : appStatus(linked, pending),
      el("span", { class: "head-menus" }, agent ? own : null,
        agent ? menu("More", `More for ${linked.app_name}`, [{ label: `Unlink ${linked.app_name}`, danger: true, run: () => unlinkOne(customer, linked) }]) : null)),
    linked.stale ? appStatus(linked, pending) : null,
    box,
    (data.custom_attributes || []).length ? el("dl", { class: "attributes sources", "aria-label": `Details at ${linked.app_name}` },
      data.custom_attributes.map((a) => [el("dt", {}, a.label || humanize(a.key)), el("dd", {}, link(a.url, a.value))])) : null,
    orders.length ? el("ul", { class: "plain records", "aria-label": `Orders at ${linked.app_name}` }, orderRows(customer, linked, onOrders)) : null,
    partialNote(data.partial, "orders"),
    (data.returns || []).length ? el("ul", { class: "plain records", "aria-label": `Returns at ${linked.app_name}` }, data.returns.map((r) => returnRow(linked, r))) : null,
    partialNote(data.partial, "returns"),
    transactions.length ? el("ul", { class: "plain records", "aria-label": `Records at ${linked.app_name}` }, transactions) : null,
    nothing ? el("p", { class: "muted" }, `No orders or returns at ${linked.app_name}.`) : null,
  );
}

// A value that is a web address reads as its host, the whole address behind the link.
function valueOf(v) {
  if (!/^https?:\/\//.test(v)) return v;
  try {
    return link(v, new URL(v).host);
  } catch {
    return link(v);
  }
}

async function unlinkAll(customer) {
  const names = customer.links.map((l) => l.app_name);
  const ok = await confirmAction(`Unlink ${names.join(", ")}?`, [
    el("p", {}, "Their orders, returns and the details pulled from them leave this profile."),
    el("p", {}, "Auto-link will not link these systems to this customer again; you can still link them by hand."),
  ], `Unlink ${names.length === 1 ? names[0] : `${names.length} systems`}`, true);
  if (!ok) return;
  const updated = await api("DELETE", `/api/v1/customers/${customer.id}/links`);
  await openProfile(customer.id, updated);
  notice(`Unlinked ${names.join(", ")}.`);
}

// Where each value came from, behind one toggle for the whole profile.
function sourcesToggle() {
  return el("button", { type: "button", class: "link sources-toggle", "aria-pressed": String(Boolean(state.showSources)), onclick: (e) => {
    state.showSources = !state.showSources;
    e.currentTarget.setAttribute("aria-pressed", String(state.showSources));
    document.getElementById("profile").classList.toggle("show-sources", state.showSources);
  } }, "Sources");
}

function customerCard(customer) {
  const appName = Object.fromEntries(customer.links.map((l) => [l.app_id, l.app_name]));
  const from = (field) => (customer.sources[field] ? el("span", { class: "from" }, `from ${appName[customer.sources[field]] || "an app no longer linked"}`) : null);
  const labels = {};
  for (const l of customer.links) for (const a of (l.data && l.data.custom_attributes) || []) labels[a.key] = a.label;
  const address = customer.address ? [customer.address.line1, customer.address.line2, customer.address.city, customer.address.region,
    customer.address.postal_code, customer.address.country_code].filter(Boolean).join(", ") : "";
  const attributes = Object.entries(customer.custom_attributes || {});
  return el("section", { class: "card customer", "aria-label": "Customer" },
    el("div", { class: "card-head" }, el("h2", {}, customer.name || "Unnamed customer"), from("name"), liveBadge(),
      el("span", { class: "head-menus" }, customer.links.length ? sourcesToggle() : null, menu("More", "More for this customer", [
        { label: "Refresh every system", run: () => openProfile(customer.id) },
        state.role === "admin" ? { label: "Audit log for this customer", run: () => auditForCustomer(customer) } : null,
        state.role === "admin" ? { label: "Export their data", run: () => exportCustomer(customer) } : null,
        state.role === "admin" ? { label: "Erase this customer…", danger: true, run: () => eraseCustomer(customer) } : null,
        customer.links.length && state.role === "agent" ? { label: "Unlink all", danger: true, run: () => unlinkAll(customer) } : null,
      ]))),
    el("p", {}, [...customer.emails.map((e) => el("span", {}, e)), ...(customer.phones_formatted || customer.phones).map((p) => el("span", { class: "nowrap" }, p))]
      .flatMap((part, i) => (i ? [" · ", part] : [part])), customer.emails.length + customer.phones.length ? null : el("span", { class: "muted" }, "No email or phone")),
    address ? el("p", {}, address, from("address")) : null,
    customer.last_contact_at ? el("p", { class: "muted" }, agoText(customer.last_contact_at, "Last contact ")) : null,
    attributes.length ? el("dl", { class: "attributes compact" }, attributes.map(([k, v]) => el("div", {},
      el("dt", {}, labels[k] || humanize(k)), el("dd", {}, valueOf(v), from(`custom_attributes.${k}`) || el("span", { class: "from" }, "set by an agent"))))) : null);
}

async function renderProfile(customer, pending = new Set()) {
  const links = await Promise.all(customer.links.map((l) => renderLink(customer, l, pending.has(l.app_id))));
  const root = document.getElementById("profile");
  const fresh = el("div", {}, customerCard(customer), summaryCard(customer, pending),
    customer.links.length ? null : el("p", { class: "muted" }, "Not linked to any system yet: search below."),
    el("div", { class: "apps" }, links), state.role === "agent" ? searchPanel(customer) : null);
  const settle = keepOpen(root, fresh, false);
  root.dataset.customer = customer.id;
  root.classList.toggle("show-sources", Boolean(state.showSources));
  fill(root, ...fresh.childNodes);
  settle();
}
