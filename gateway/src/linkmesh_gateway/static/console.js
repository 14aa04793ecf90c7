// linkmesh web console: a thin client of the gateway's REST API (/api/v1), in its own tab (/)
// or in a helpdesk's sidebar (/sidebar). Everything shown comes from the API; text is always
// set with textContent. No framework, no build step.

const SIDEBAR = location.pathname.replace(/\/+$/, "") === "/sidebar";

// This tab's storage; in a helpdesk's frame a browser that blocks third-party storage refuses
// it, and the token is then kept in this page's memory only (sign in again after a reload).
const store = (() => {
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

const state = {
  token: store.getItem("linkmesh.token") || "", role: "", connectors: null, customer: null, results: new Map(),
  frameOrigins: [], directory: { query: "", token: "" }, searchResults: null, lastContext: "",
};

// ---- helpers ---------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
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
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

function link(url, text) {
  return url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url) : text || "";
}

function isZero(amount) {
  return !amount || Number(amount) === 0;
}

// Money as a person reads it; nothing for an absent or zero amount (no "0.00 USD" discounts).
function money(m) {
  return m && !isZero(m.amount) ? `${m.amount} ${m.currency}` : "";
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

// Dates without seconds.
function when(ts) {
  return ts ? DATE.format(new Date(ts)) : "";
}

function day(ts) {
  return ts ? DAY.format(new Date(ts)) : "";
}

function ago(ts) {
  if (!ts) return "";
  const s = Math.max(0, (Date.now() - new Date(ts).getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return when(ts);
}

// "loyalty_tier" → "Loyalty tier".
function humanize(key) {
  const text = String(key).replace(/[_.-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim().toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Order and return states as badges: done, under way, or stopped.
function statusBadge(status) {
  const s = String(status || "").toLowerCase();
  const kind = /cancel|refund|declin|fail|reject|void|closed|incomplete/.test(s) ? "bad"
    : /complete|shipped|deliver|fulfilled|received|approved|paid/.test(s) ? "ok"
    : s ? "warn" : "";
  return s ? el("span", { class: `badge ${kind}` }, humanize(status)) : null;
}

function notice(text, isError = false) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.className = isError ? "error" : "muted";
}

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    const err = (body && body.error) || {};
    const fields = Object.entries(err.fields || {}).map(([f, m]) => `${f}: ${m}`).join("; ");
    super(`${err.message || `HTTP ${status}`}${fields ? ` (${fields})` : ""}`);
    this.status = status;
    this.code = err.code;
    this.reason = err.message || `HTTP ${status}`;
    this.fields = err.fields || {};
    this.retryAfter = retryAfter;  // seconds, from Retry-After: when asking again may answer
  }
}

async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, payload, Number(response.headers.get("Retry-After")) || null);
  return payload;
}

async function guarded(action) {
  try {
    notice("");
    await action();
  } catch (error) {
    notice(error.message, true);
  }
}

// One Idempotency-Key per set of values: the same values (a double click, a retry after a lost
// answer) keep their key, so an action runs at most once; changed values are a new request.
function keyedRequests() {
  let last = null;
  return (body) => {
    const text = JSON.stringify(body);
    if (!last || last.text !== text) last = { text, key: crypto.randomUUID() };
    return last.key;
  };
}

// The button stays disabled while its request runs.
async function busy(button, work) {
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
function confirmAction(title, lines, yesLabel, danger = false) {
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

// What a failed call to a system means, in words (never a bare gRPC code).
function inWords(appName, code, message) {
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
  // The system's own words, without the codes the mesh adds ("the search failed (UNAVAILABLE): ").
  const words = String(message || "").replace(/^the [a-zA-Z ]*failed \([A-Z_]+\): /, "").replace(/\b[A-Z]+(_[A-Z]+)+\b:? ?/g, "").trim();
  return said ? `${said}${words ? ` (${words})` : ""}` : `${appName}: ${words || humanize(c)}`;
}

// An action's answer is shown at the form that ran it, and kept there when the profile is
// drawn again (state.results, per app and action, forgotten when another customer opens).
function actionResult(result) {
  const detail = (result.result || {}).detail;
  const urls = Object.entries(result.result || {}).filter(([, v]) => /^https?:\/\//.test(v));
  const how = result.resolution === "resolved" ? " (its answer was lost; confirmed from the system's own records)"
    : result.replayed ? " (answered again)" : "";
  return { error: false, text: `${result.message}${detail ? ` — ${detail}` : ""}${how}`, urls };
}

// An action whose outcome is unknown (502 outcome_unknown): linkmesh asks the system's own records
// whether it went through, and the same request with the same key answers once it knows. The
// agent sees that it is being checked, then the outcome; never a second run under a new key.
async function followUnknown(customerId, body, key, resultKey, appName, error) {
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
  fill(box, ...(entry ? [el("span", {}, entry.text),
    ...entry.urls.map(([name, url]) => el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name === "url" ? "Open" : humanize(name)))] : []));
}

function resultBox(key) {
  const box = el("div", { class: "result", role: "status", "aria-live": "polite", "data-result": key });
  paintResult(box, state.results.get(key));
  return box;
}

function settle(key, entry) {
  state.results.set(key, entry);
  const box = document.querySelector(`[data-result="${CSS.escape(key)}"]`);
  if (box) paintResult(box, entry);
}

async function connectors() {
  if (!state.connectors) {
    const answer = await api("GET", "/api/v1/connectors");
    state.connectors = Object.fromEntries(answer.connectors.map((c) => [c.type, c]));
  }
  return state.connectors;
}

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))));
}

// ---- finding a customer ------------------------------------------------------

const MATCHED = { recent: "", name: "name", email: "email", phone: "phone", order: "order number" };

async function showDirectory(query = "", more = false) {
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
    list.append(el("li", {}, el("button", { type: "button", "aria-current": current ? "true" : false, "data-customer": c.id,
      onclick: (event) => guarded(() => busy(event.currentTarget, () => openProfile(c.id))) },
      el("span", { class: "who" }, c.name || c.emails[0] || c.phones[0] || "Unnamed customer"),
      el("span", { class: "muted" }, [c.emails[0], c.phones[0]].filter(Boolean).join(" · ")),
      el("span", { class: "muted" }, [c.linked_apps.length ? `Linked: ${c.linked_apps.join(", ")}` : "Not linked",
        c.last_contact_at ? `contacted ${ago(c.last_contact_at)}` : "", MATCHED[c.matched] ? `found by ${MATCHED[c.matched]}` : ""]
        .filter(Boolean).join(" · ")))));
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

function contactFields(form) {
  return { email: form.email.value.trim(), phone: form.phone.value.trim(), name: form.name.value.trim() };
}

async function createCustomer(form) {
  const { email, phone, name } = contactFields(form);
  const customer = await api("POST", "/api/v1/customers", { name, emails: email ? [email] : [], phones: phone ? [phone] : [] });
  fill(document.getElementById("contact-result"), el("p", { class: "ok" }, `Added ${customer.name || "the customer"}.`));
  await openProfile(customer.id, customer);
  await showDirectory(state.directory.query);
}

// A contact: the customer is found or made, auto-link runs and linked apps refresh. What
// failed is said in words with a retry; a system that answered without a unique match is told
// apart from one that failed.
async function recordContact(contact) {
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

// ---- the profile -------------------------------------------------------------
// Opened as stored at once; then each linked app refreshes on its own and its card is redrawn
// as its answer arrives (or says, in words, why it could not refresh).

async function openProfile(id, known, refresh = !known) {
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
      fill(card, `Could not check for updates: ${error.message}. `,
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

// What a connector could not read in time is said, never passed off as all there is.
const PARTIAL = { shipments: "More shipments could not be loaded in time.", lines: "More lines could not be loaded in time.",
  product_links: "Some product links could not be loaded in time.", orders: "Older orders could not be loaded in time.",
  returns: "More returns could not be loaded in time." };

function partialNote(partial, part) {
  return (partial || []).includes(part) ? el("p", { class: "stale" }, PARTIAL[part]) : null;
}

function carrierName(carrier) {
  return carrier && carrier.length <= 4 ? carrier.toUpperCase() : carrier;  // "ups" → "UPS"
}

function shipmentLine(s) {
  return el("li", {}, el("strong", {}, carrierName(s.carrier) || s.method || "Shipment"), s.carrier && s.method ? el("span", { class: "muted" }, ` (${s.method})`) : null,
    s.tracking_number ? [" · ", link(s.tracking_url, s.tracking_number)] : null, s.shipped_at ? el("span", { class: "muted" }, ` · shipped ${day(s.shipped_at)}`) : null);
}

function orderBlock(o, actionsOf) {
  return el("li", { class: "order" },
    el("div", { class: "top" }, el("strong", { class: "code" }, link(o.admin_url, `#${o.number || o.id}`)), statusBadge(o.status),
      o.fulfilled ? el("span", { class: "badge ok" }, "Fulfilled") : null,
      el("span", { class: "muted" }, day(o.created_at)), el("span", { class: "total" }, money(o.total))),
    money(o.discount) ? el("div", { class: "muted" }, `Discount ${money(o.discount)}`) : null,
    o.lines.length ? el("ul", {}, o.lines.map((l) => el("li", {}, `${l.quantity} × `, link(l.product_url, l.name),
      l.sku ? el("span", { class: "muted code" }, ` ${l.sku}`) : null, money(l.unit_price) ? ` · ${money(l.unit_price)}` : ""))) : null,
    partialNote(o.partial, "lines"), partialNote(o.partial, "product_links"),
    o.shipments.length ? el("ul", { "aria-label": "Shipments" }, o.shipments.map(shipmentLine)) : null,
    partialNote(o.partial, "shipments"),
    actionsOf(o.actions));
}

function returnBlock(r) {
  return el("li", { class: "order" },
    el("div", { class: "top" }, el("strong", { class: "code" }, link(r.admin_url, r.code || r.id)), statusBadge(r.status),
      el("span", { class: "muted" }, `order ${r.order_id} · ${day(r.created_at)}`),
      el("span", { class: "total" }, money(r.refund_total) ? `Refund ${money(r.refund_total)}` : "")),
    money(r.exchange_total) ? el("div", { class: "muted" }, `Exchange ${money(r.exchange_total)}`) : null,
    money(r.store_credit) ? el("div", { class: "muted" }, `Store credit ${money(r.store_credit)}`) : null,
    el("ul", {}, r.items.map((i) => el("li", {}, `${i.quantity} × ${i.name}`, i.sku ? el("span", { class: "muted code" }, ` ${i.sku}`) : null,
      i.reason ? el("span", { class: "muted" }, ` — ${i.reason}`) : null))),
    r.return_shipment ? el("ul", { "aria-label": "Return shipment" }, shipmentLine(r.return_shipment)) : null);
}

function transactionsTable(transactions, actionsOf) {
  return table(["Record", "Type", "Details", ""], transactions.map((t) => [
    el("span", {}, t.title, t.created_at ? el("div", { class: "muted" }, when(t.created_at)) : null), humanize(t.type || ""),
    el("div", {}, t.fields.map((f) => el("div", {}, `${f.label}: ${f.value}`))),
    actionsOf(t.actions),
  ]));
}

// An action a linked record offers (a custom lookup adaptor's): its form is read from that
// system when opened, and its values are posted once per key. A refusal that names fields
// keeps the form open with each field's error (and a new key for the corrected values); a
// refusal of the action closes it with the message; success shows it and the refreshed profile.
function recordActionButton(customer, linked, action, holder) {
  return el("button", { type: "button", onclick: (e) => guarded(() => busy(e.currentTarget, () => openRecordAction(customer, linked, action, holder))) }, action.name);
}

async function openRecordAction(customer, linked, action, holder) {
  const params = new URLSearchParams({ app_id: linked.app_id, form_url: action.form_url });
  const form = await api("GET", `/api/v1/customers/${customer.id}/action-form?${params}`);
  const keyFor = keyedRequests();
  const resultKey = `${linked.app_id}|record`;
  const inputs = {};
  const errors = {};
  const rows = form.fields.map((f) => {
    if (f.type === "note") return el("p", { class: "muted" }, f.label, f.hint ? ` — ${f.hint}` : "");
    let input;
    if (f.type === "select") {
      const choices = f.choices.length ? f.choices : f.options.map((o) => ({ label: o, value: o }));
      input = el("select", { name: f.name }, f.required ? null : el("option", { value: "" }, ""),
        choices.map((c) => el("option", { value: c.value, selected: c.value === f.default_value }, c.label)));
    } else if (f.type === "boolean") {
      input = el("input", { type: "checkbox", name: f.name, checked: (f.default_value || "").toLowerCase() === "true" });
    } else {
      input = el("input", { name: f.name, value: f.default_value || "", placeholder: f.placeholder || "", required: f.required });
    }
    inputs[f.name] = input;
    errors[f.name] = el("div", { class: "error" });
    return el("label", { class: "field" }, el("span", {}, f.label, f.required ? " *" : ""), input,
      f.hint ? el("small", { class: "muted" }, f.hint) : null, errors[f.name]);
  });
  const general = el("div", { class: "error" });
  const close = () => fill(holder, resultBox(resultKey));
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(errors)) box.textContent = "";
    general.textContent = "";
    const values = Object.fromEntries(Object.entries(inputs).map(([n, i]) => [n, i.type === "checkbox" ? i.checked : i.value.trim()]));
    const body = { app_id: linked.app_id, form_url: action.form_url, params: values };
    try {
      const result = await api("POST", `/api/v1/customers/${customer.id}/actions`, body, { "Idempotency-Key": keyFor(body) });
      state.results.set(resultKey, actionResult(result));
      await openProfile(customer.id, result.customer);
    } catch (first) {
      const error = await followUnknown(customer.id, body, keyFor(body), resultKey, linked.app_name, first);
      if (error === null) return;
      if (!(error instanceof ApiError) || error.status >= 500) {  // the outcome may be unknown: the same values keep their key
        general.textContent = `${error.message} — it may or may not have run; sending the same values again cannot run it twice.`;
        return;
      }
      const named = Object.entries(error.fields).filter(([f]) => f.startsWith("params.") && errors[f.slice(7)]);
      for (const [f, message] of named) errors[f.slice(7)].textContent = message;
      if (error.status === 409) {
        close();
        settle(resultKey, { error: true, text: `${action.name}: ${error.reason}`, urls: [] });
      } else if (!named.length) {
        general.textContent = error.message;
      }
    }
  };
  const run = el("button", { type: "submit", class: "primary" }, form.submit_label);
  settle(resultKey, undefined);
  fill(holder, el("form", { class: "record-action", onsubmit: (e) => guarded(() => busy(run, () => submit(e))) },
    el("strong", {}, form.title), rows, general,
    el("div", { class: "row" }, run, el("button", { type: "button", onclick: close }, form.close_label))), resultBox(resultKey));
}

// Which orders an action applies to: not to a cancelled or refunded order, and a cancel not to
// one already shipped.
const STOPPED = /cancel|refund|declin|void|closed|incomplete/i;
const SENT = /shipped|complete|deliver/i;

function appliesTo(spec, order) {
  if (STOPPED.test(order.status || "")) return false;
  if (spec.name === "cancel" && (order.fulfilled || SENT.test(order.status || ""))) return false;
  return true;
}

// The lines of the chosen order, each with how many to refund (all of each by default).
function linePicker(order, field) {
  const rows = (order ? order.lines : []).filter((l) => l.id);
  const inputs = rows.map((l) => el("input", { type: "number", min: "0", max: String(l.quantity), value: String(l.quantity), step: "1",
    "aria-label": `${field.label}: how many of ${l.name}`, "data-line": l.id }));
  const box = el("fieldset", { class: "line-pick" }, el("legend", {}, field.label),
    rows.length ? rows.map((l, i) => [el("span", {}, `${l.name}`, el("span", { class: "muted" }, ` ${money(l.unit_price)} each, ${l.quantity} ordered`)), inputs[i]])
      : el("span", { class: "muted" }, "This order shows no lines; every line left will be refunded."));
  return {
    box,
    // "id:quantity,..." for a part; empty for every line (what the vendor refunds: all that is left).
    value: () => {
      const chosen = rows.map((l, i) => [l, Math.max(0, Math.min(l.quantity, Number(inputs[i].value) || 0))]);
      const all = chosen.every(([l, n]) => n === l.quantity);
      return { all, chosen: chosen.filter(([, n]) => n > 0), text: all ? "" : chosen.filter(([, n]) => n > 0).map(([l, n]) => `${l.id}:${n}`).join(",") };
    },
  };
}

function sum(lines) {
  if (!lines.length) return "";
  const currency = lines[0][0].unit_price ? lines[0][0].unit_price.currency : "";
  const total = lines.reduce((acc, [l, n]) => acc + n * Number((l.unit_price || {}).amount || 0), 0);
  return `${total.toFixed(2)} ${currency}`.trim();
}

// What the action will do, said before it runs.
function preview(spec, linked, order, orderNumber, values, lines) {
  const where = `at ${linked.app_name}`;
  const ref = order ? `order #${order.number || order.id}` : `order ${orderNumber}`;
  if (spec.name === "refund") {
    const picked = lines && !lines.all ? lines.chosen : null;
    return {
      title: `Refund ${ref} ${where}?`,
      lines: [
        picked ? el("ul", {}, picked.map(([l, n]) => el("li", {}, `${n} × ${l.name} (${money(l.unit_price)})`))) :
          el("p", {}, `Every line not refunded yet${order && money(order.total) ? ` (order total ${money(order.total)})` : ""}.`),
        picked ? el("p", {}, el("strong", {}, `Refund ${sum(picked)}`), " to the original payment method.") : null,
        values.reason ? el("p", { class: "muted" }, `Reason: ${values.reason}`) : null,
        values.notify ? el("p", { class: "muted" }, "The customer is emailed.") : null,
      ].filter(Boolean),
      yes: picked ? `Refund ${sum(picked)}` : "Refund the order",
    };
  }
  if (spec.name === "cancel") {
    return { title: `Cancel ${ref} ${where}?`, yes: "Cancel the order",
      lines: [`${order ? `${humanize(order.status)}, total ${money(order.total) || "not shown"}. ` : ""}The system may refund the payment and restock the items.`] };
  }
  const details = Object.entries(values).filter(([, v]) => v).map(([k, v]) => `${humanize(k)}: ${v}`);
  return { title: `${spec.label}${spec.order_required ? ` for ${ref}` : ""} ${where}?`, yes: spec.label,
    lines: details.length ? [el("ul", {}, details.map((d) => el("li", {}, d)))] : ["With the system's defaults."] };
}

// A built-in action (refund, cancel, discount code, start a return): the order it applies to
// is chosen by default, what it will do is shown and asked once, its answer stays at the form.
function actionForm(customer, linked, spec) {
  const keyFor = keyedRequests();
  const resultKey = `${linked.app_id}|${spec.name}`;
  const inputs = {};
  const orders = (linked.data && linked.data.orders) || [];
  const id = (name) => `${linked.app_id}-${spec.name}-${name}`;
  const usable = orders.filter((o) => appliesTo(spec, o));
  let orderSelect = null;
  if (spec.order_required) {
    // An app that shows no orders (ReturnLogic) takes the order number typed in.
    orderSelect = orders.length
      ? el("select", { id: id("order"), name: "order_id" }, orders.map((o) => el("option", { value: o.id, selected: o === usable[0] },
        `#${o.number || o.id} · ${humanize(o.status)}${money(o.total) ? ` · ${money(o.total)}` : ""}${appliesTo(spec, o) ? "" : " (not applicable)"}`)))
      : el("input", { id: id("order"), name: "order_id", autocomplete: "off", required: true });
  }
  const chosenOrder = () => orders.find((o) => orderSelect && o.id === orderSelect.value);
  let picker = null;
  const fieldErrors = {};
  const pickerHolder = el("div", { class: "line-holder" });
  const fields = (spec.fields || []).map((f) => {
    if (f.type === "lines" && orders.length) {
      const draw = () => {
        picker = linePicker(chosenOrder(), f);
        fill(pickerHolder, picker.box);
      };
      draw();
      orderSelect?.addEventListener("change", draw);
      return pickerHolder;
    }
    let input;
    if (f.type === "select") {
      input = el("select", { id: id(f.name), name: f.name, required: f.required }, f.required ? null : el("option", { value: "" }, ""),
        (f.options || []).map((o) => el("option", { value: o }, humanize(o))));
    } else if (f.type === "boolean") {
      input = el("input", { id: id(f.name), name: f.name, type: "checkbox" });
    } else {
      input = el("input", { id: id(f.name), name: f.name, required: f.required, autocomplete: "off",
        inputmode: f.type === "integer" ? "numeric" : f.type === "decimal" ? "decimal" : undefined });
    }
    inputs[f.name] = input;
    fieldErrors[f.name] = el("div", { class: "field-error", id: id(`${f.name}-error`) });
    input.setAttribute("aria-describedby", id(`${f.name}-error`));
    return el("label", { for: id(f.name) }, `${f.label}${f.required ? " (required)" : ""}`, input,
      f.hint ? el("small", { class: "muted" }, f.hint) : null, fieldErrors[f.name]);
  });
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(fieldErrors)) box.textContent = "";
    settle(resultKey, undefined);
    const params = Object.fromEntries(Object.entries(inputs)
      .map(([n, i]) => [n, i.type === "checkbox" ? (i.checked ? "true" : "") : i.value.trim()]).filter(([, v]) => v));
    const lines = picker ? picker.value() : null;
    if (lines && !lines.all && !lines.chosen.length) {
      settle(resultKey, { error: true, urls: [], text: "Choose at least one line to refund." });
      return;
    }
    if (lines && lines.text) params.lines = lines.text;
    const body = { app_id: linked.app_id, action: spec.name, params };
    if (orderSelect) body.order_id = orderSelect.value.trim();
    const said = preview(spec, linked, chosenOrder(), body.order_id, params, lines);
    if (!(await confirmAction(said.title, said.lines, said.yes, spec.name !== "create_discount_code" && spec.name !== "generate_coupon"))) return;
    try {
      const result = await api("POST", `/api/v1/customers/${customer.id}/actions`, body, { "Idempotency-Key": keyFor(body) });
      state.results.set(resultKey, actionResult(result));
      await openProfile(customer.id, result.customer);
    } catch (first) {
      const error = await followUnknown(customer.id, body, keyFor(body), resultKey, linked.app_name, first);
      if (error === null) return;
      const unknown = !(error instanceof ApiError) || error.status >= 500;
      // A refusal that names fields is shown at each field; the corrected values are a new request.
      const named = unknown ? [] : Object.entries(error.fields).filter(([f]) => f.startsWith("params.") && fieldErrors[f.slice(7)]);
      for (const [f, message] of named) fieldErrors[f.slice(7)].textContent = message;
      settle(resultKey, { error: true, urls: [], text: unknown
        ? `${error.message} — it may or may not have run; Review and run again with the same values cannot run it twice.`
        : named.length ? `Not run: ${error.reason}.` : `Not run: ${error.message}` });
    }
  };
  const run = el("button", { type: "submit", class: "primary" }, "Review");
  return el("div", { class: "action", "data-action": spec.name },
    el("form", { "aria-label": spec.label, onsubmit: (e) => guarded(() => busy(run, () => submit(e))) },
      el("strong", { class: "action-title" }, spec.label),
      orderSelect ? el("label", { for: id("order") }, "Order", orderSelect) : null,
      fields, run),
    resultBox(resultKey));
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
  return el("section", { class: "card app", "data-app": linked.app_id, "aria-label": linked.app_name },
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

// Search every system the customer is not linked to yet; the results stay after a link, the
// linked one marked, so an agent can see what was done.
function searchPanel(customer) {
  const id = (n) => `search-${n}`;
  const email = el("input", { id: id("email"), name: "email", type: "email", value: customer.emails[0] || "", autocomplete: "off" });
  const phone = el("input", { id: id("phone"), name: "phone", type: "tel", value: customer.phones[0] || "", autocomplete: "off" });
  const order = el("input", { id: id("order"), name: "order_number", autocomplete: "off" });
  // Every system not linked yet, or one of them: the ones this agent may search, with what each searches by.
  const system = el("select", { id: id("system"), name: "app_id" }, el("option", { value: "all" }, "Every system not linked yet"));
  // Asked once per customer and set of links (the profile is redrawn as each refresh arrives).
  const key = `${customer.id}|${customer.links.map((l) => l.app_id).join(",")}`;
  if (state.searchTargets?.key !== key) {
    state.searchTargets = { key, answer: api("GET", `/api/v1/customers/${customer.id}/search-targets`) };
  }
  state.searchTargets.answer.then((answer) => {
    for (const t of answer.targets) {
      system.append(el("option", { value: t.app_id }, `${t.app_name} (${t.search_fields.map((f) => humanize(f).toLowerCase()).join(", ")})`));
    }
  }).catch(() => { state.searchTargets = null; });  // a convenience: searching every system works without it
  const out = el("div", { "aria-live": "polite" });
  const draw = () => {
    const answer = state.searchResults;
    if (!answer) return fill(out);
    const linkedIds = new Set(state.customer.links.map((l) => `${l.app_id}|${l.external_customer_id}`));
    fill(out,
      answer.results.length ? el("ul", { class: "plain results-list" }, answer.results.map((r) => {
        const done = linkedIds.has(`${r.app_id}|${r.external_customer_id}`);
        return el("li", {}, el("span", {}, el("strong", {}, r.app_name), " ",
          el("span", { class: "muted" }, r.attributes.map((a) => `${a.label}: ${a.value}`).join(" · "))),
        done ? el("span", { class: "linked-mark" }, "Linked ✓") : el("button", { type: "button", onclick: (e) => guarded(() => busy(e.currentTarget, async () => {
          const updated = await api("POST", `/api/v1/customers/${customer.id}/links`, { app_id: r.app_id, external_customer_id: r.external_customer_id });
          state.searchResults.linkedNote = `Linked ${r.app_name} customer ${r.external_customer_id}.`;
          await openProfile(customer.id, updated);
        })) }, "Link"));
      })) : el("p", { class: "muted" }, "No system found a match."),
      answer.linkedNote ? el("p", { class: "ok", role: "status" }, answer.linkedNote) : null,
      answer.failures.map((f) => el("p", { class: "error" }, inWords(f.app_name, f.code.toUpperCase(), f.message))),
      answer.skipped.map((s) => el("p", { class: "muted" }, `${s.app_name}: ${s.reason}`)),
    );
  };
  const run = async (event) => {
    event.preventDefault();
    const body = { app_id: system.value || "all", email: email.value.trim(), phone: phone.value.trim() };
    if (order.value.trim()) body.order_number = order.value.trim();
    state.searchResults = await api("POST", `/api/v1/customers/${customer.id}/external-search`, body);
    draw();
  };
  draw();
  const button = el("button", { type: "submit" }, "Search");
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

// ---- apps --------------------------------------------------------------------
// An app is made and edited from its connector's own settings form (Describe): every setting
// with its label and hint, secrets as write-only fields, every invalid field shown at once.

async function showApps() {
  const answer = await api("GET", "/api/v1/apps");
  const admin = state.role === "admin";
  document.getElementById("new-app").hidden = !admin;
  const toggle = (app) => el("button", { type: "button", class: app.active ? "danger" : "", onclick: (e) => guarded(async () => {
    const button = e.currentTarget;
    if (app.active && !(await confirmAction(`Deactivate ${app.name}?`, [
      "Agents stop seeing its data refresh, searches and auto-link skip it, and its actions stop running until it is activated again.",
      "Links and the data already pulled stay."], `Deactivate ${app.name}`, true))) return;
    await busy(button, () => (app.active ? api("POST", `/api/v1/apps/${app.id}/deactivate`) : api("POST", `/api/v1/apps/${app.id}/activate`)));
    await showApps();
  }) }, app.active ? "Deactivate" : "Activate");
  const all = await connectors();
  fill(document.getElementById("app-list"), answer.apps.length ? table(["App", "System", "State", "Auto-link", "Actions", ""], answer.apps.map((a) => [
    el("strong", {}, a.name), (all[a.type] || {}).display_name || a.type,
    el("span", { class: `badge ${a.active ? "ok" : "bad"}` }, a.active ? "Active" : "Inactive"),
    a.auto_link_fields.map(humanize).join(", ") || "Off", a.actions_enabled ? "On" : "Off",
    el("div", { class: "row" }, admin ? el("button", { type: "button", onclick: () => guarded(() => editApp(a)) }, "Edit") : null, admin ? toggle(a) : null,
      el("button", { type: "button", onclick: () => guarded(() => showLog({ app_id: a.id }, document.getElementById("lookups"))) }, "Lookups")),
  ])) : el("p", { class: "muted" }, "No app yet."));
  for (const select of document.querySelectorAll("#debug select[name=app_id], #log-filter select[name=app_id]")) {
    const chosen = select.value;
    fill(select, ...answer.apps.map((a) => el("option", { value: a.id, selected: a.id === chosen }, a.name)));
  }
  return answer.apps;
}

async function newApp() {
  const all = await connectors();
  const available = Object.values(all).filter((c) => c.available);
  const holder = document.getElementById("app-editor");
  const type = el("select", { id: "new-app-type" }, available.map((c) => el("option", { value: c.type }, c.display_name || c.type)));
  const form = el("div");
  const draw = () => fill(form, appForm(all[type.value], null));
  type.addEventListener("change", draw);
  fill(holder, el("section", { class: "card", "aria-label": "Add an app" }, el("h3", {}, "Add an app"),
    el("label", { for: "new-app-type" }, "System", type), form));
  draw();
  type.focus();
}

async function editApp(app) {
  const all = await connectors();
  const connector = all[app.type];
  const holder = document.getElementById("app-editor");
  if (!connector || !connector.available) {
    fill(holder, el("p", { class: "error" }, `The ${app.type} connector is not answering, so its settings form cannot be read; try again later.`));
    return;
  }
  fill(holder, el("section", { class: "card", "aria-label": `Edit ${app.name}` }, el("h3", {}, `Edit ${app.name}`), appForm(connector, app)));
  holder.querySelector("input")?.focus();
}

function appForm(connector, app) {
  const inputs = {};
  const errors = {};
  const fieldId = (name) => `app-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  const field = (key, label, input, hint) => {
    input.id = fieldId(key);
    inputs[key] = input;
    errors[key] = el("div", { class: "field-error", id: `${fieldId(key)}-error` });
    input.setAttribute("aria-describedby", `${fieldId(key)}-error`);
    return el("label", { for: input.id }, label, input, hint ? el("small", { class: "muted" }, hint) : null, errors[key]);
  };
  const settings = connector.settings.map((s) => {
    const key = `${s.secret ? "secrets" : "settings"}.${s.name}`;
    const isSet = app && (app.secrets_set || []).includes(s.name);
    const input = el("input", { type: s.secret ? "password" : "text", autocomplete: s.secret ? "new-password" : "off",
      value: s.secret ? "" : (app ? app.settings[s.name] || "" : ""), placeholder: s.secret ? (isSet ? "set: leave empty to keep" : "") : s.default_value || "",
      required: s.required && !(s.secret && isSet) });
    const hint = [s.hint, s.secret ? "Write-only: never shown again." : "", s.credentials_destination && app ? "Changing it requires entering the secrets again." : ""]
      .filter(Boolean).join(" ");
    return field(key, `${s.label}${s.required ? " (required)" : ""}`, input, hint);
  });
  const checkbox = (key, label, checked) => {
    const input = el("input", { type: "checkbox", id: fieldId(key), checked });
    inputs[key] = input;
    errors[key] = el("div", { class: "field-error" });
    return el("label", { class: "row", for: input.id }, input, label, errors[key]);
  };
  const autoLink = connector.auto_link_fields.map((f) => checkbox(`auto_link.${f}`, `Auto-link on a unique ${f} match`, app ? app.auto_link_fields.includes(f) : false));
  // An app's search fields are the contact points it is queried by; an order number is searched
  // wherever the connector can, whatever the app's fields.
  const queryFields = connector.search_fields.filter((f) => f === "email" || f === "phone");
  const searched = new Set(app ? app.search_query_attributes.map((a) => a.attribute) : queryFields);
  const searchBy = queryFields.map((f) => checkbox(`search.${f}`, `Agents search it by ${humanize(f).toLowerCase()}`, searched.has(f)));
  const general = el("div", { class: "error", role: "alert" });
  const save = el("button", { type: "submit", class: "primary" }, app ? "Save changes" : "Add app");
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(errors)) box.textContent = "";
    general.textContent = "";
    const body = { name: inputs.name.value.trim(), settings: {}, auto_link_fields: connector.auto_link_fields.filter((f) => inputs[`auto_link.${f}`].checked),
      search_query_attributes: queryFields.filter((f) => inputs[`search.${f}`].checked).map((f) => ({ attribute: f, label: humanize(f) })),
      actions_enabled: inputs.actions_enabled.checked, overwrite_existing_values: inputs.overwrite_existing_values.checked };
    const secrets = {};
    for (const s of connector.settings) {
      const value = inputs[`${s.secret ? "secrets" : "settings"}.${s.name}`].value.trim();
      if (s.secret) { if (value) secrets[s.name] = value; } else if (value) body.settings[s.name] = value;
    }
    if (Object.keys(secrets).length) body.secrets = secrets;
    if (!app) body.type = connector.type;
    try {
      await (app ? api("PATCH", `/api/v1/apps/${app.id}`, body) : api("POST", "/api/v1/apps", body));
      fill(document.getElementById("app-editor"), el("p", { class: "ok", role: "status" }, `${body.name} is saved.`));
      await showApps();
    } catch (error) {
      const unplaced = [];
      for (const [key, message] of Object.entries(error.fields || {})) {
        const box = errors[key] || errors[key.replace(/^auto_link_fields.*/, `auto_link.${connector.auto_link_fields[0]}`)]
          || errors[key.replace(/^search_query_attributes.*/, `search.${queryFields[0]}`)];
        if (box) box.textContent = message; else unplaced.push(`${key}: ${message}`);
      }
      general.textContent = Object.keys(error.fields || {}).length ? (unplaced.length ? unplaced.join("; ") : `${error.reason}: see the fields above.`) : error.message;
      const first = Object.keys(error.fields || {}).map((k) => inputs[k]).find(Boolean);
      first?.focus();
    }
  };
  return el("form", { class: "app-form", novalidate: true, onsubmit: (e) => guarded(() => busy(save, () => submit(e))) },
    field("name", "Name (required)", el("input", { value: app ? app.name : "", autocomplete: "off", required: true }), "How agents see this system"),
    el("fieldset", {}, el("legend", {}, `${connector.display_name || connector.type} settings`), settings),
    el("fieldset", {}, el("legend", {}, "Linking and actions"), searchBy, autoLink,
      checkbox("actions_enabled", "Agents may run order actions (refunds, cancellations, discount codes)", app ? app.actions_enabled : false),
      checkbox("overwrite_existing_values", "This system's values replace what the profile already has", app ? app.overwrite_existing_values : false)),
    general, el("div", { class: "row" }, save, el("button", { type: "button", onclick: () => fill(document.getElementById("app-editor"), ) }, "Cancel")));
}

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

async function showLog(filters, holder, pageToken = "") {
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

async function dryRun(form) {
  const answer = await api("POST", "/api/v1/debugger/lookup", {
    app_id: form.app_id.value, email: form.email.value.trim(), phone: form.phone.value.trim(), workflow: form.workflow.value,
  });
  fill(document.getElementById("debug-result"), el("section", { class: "card", "aria-label": "Dry run" },
    el("h3", {}, answer.would_link ? `Would link ${answer.external_customer_id}` : "Would not link"), el("p", {}, answer.reason), traceRows(answer.steps)));
}

// The audit log (admins): every write, its verified author and outcome, newest first.
async function showAudit(form, pageToken = "") {
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
      e.outcome === "OK" ? el("span", { class: "badge ok" }, "OK") : el("span", {}, el("span", { class: "badge bad" }, humanize(e.outcome)), ` ${e.message}`),
      details(e.details),
    ])),
    page.next_page_token ? el("button", { type: "button", onclick: () => guarded(() => showAudit(form, page.next_page_token)) }, "Older") : null));
}

// ---- inside a helpdesk (/sidebar) ------------------------------------------
// The customer of the conversation the agent has open comes from the page's query
// (?email=&phone=&name=&channel=) or, in Chatwoot's Dashboard Apps, from the "appContext"
// message Chatwoot posts to the frame (asked for again with "chatwoot-dashboard-app:fetch-info").
// Messages are read only from the origins an admin allowed to frame the console.

const CHATWOOT_CHANNELS = { "Channel::Email": "email", "Channel::Sms": "sms", "Channel::TwilioSms": "sms", "Channel::Whatsapp": "sms",
  "Channel::Voice": "voice" };
const CHANNELS = ["email", "sms", "chat", "voice", "self_service"];

function contextFromQuery() {
  const q = new URLSearchParams(location.search);
  const context = { email: (q.get("email") || "").trim(), phone: (q.get("phone") || "").trim(), name: (q.get("name") || "").trim(),
    channel: CHANNELS.includes(q.get("channel")) ? q.get("channel") : "chat" };
  return context.email || context.phone ? context : null;
}

function contextFromChatwoot(data) {
  let payload = data;
  if (typeof data === "string") {
    try { payload = JSON.parse(data); } catch { return null; }
  }
  if (!payload || payload.event !== "appContext" || !payload.data) return null;
  const { conversation = {}, contact } = payload.data;
  const person = contact || (conversation.meta || {}).sender || {};
  const context = { email: String(person.email || "").trim(), phone: String(person.phone_number || "").trim(), name: String(person.name || "").trim(),
    channel: CHATWOOT_CHANNELS[(conversation.meta || {}).channel] || "chat", conversation: conversation.id || "" };
  return context.email || context.phone ? context : { empty: true, name: context.name };
}

async function openContext(context) {
  if (!context) return;
  if (context.empty) {
    fill(document.getElementById("contact-result"), el("p", { class: "muted" },
      `${context.name || "This contact"} has no email or phone in the helpdesk yet: search for the customer below.`));
    document.getElementById("finder-box").open = true;
    return;
  }
  const key = JSON.stringify([context.email, context.phone, context.conversation || ""]);
  if (key === state.lastContext) return;  // the same conversation again: nothing new
  state.lastContext = key;
  if (!state.role) {
    state.pendingContext = context;  // opened once signed in
    return;
  }
  document.getElementById("finder-box").open = false;
  const { email, phone, name, channel } = context;
  await recordContact({ channel, email, phone, name });
}

function askHelpdesk() {
  if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");  // a request with no data
}

function listenToHelpdesk() {
  window.addEventListener("message", (event) => {
    if (event.source === window.parent && window.parent !== window && state.frameOrigins.includes(event.origin)) {
      guarded(() => openContext(contextFromChatwoot(event.data)));
    } else if (event.origin === location.origin && event.data && event.data.type === "linkmesh:signed-in" && event.data.token) {
      state.token = event.data.token;  // from the sign-in window this frame opened
      store.setItem(KEYS.token, state.token);
      store.setItem(KEYS.idToken, event.data.idToken || "");
      guarded(showSignedIn);
    }
  });
}

// ---- wiring ----------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.view === view);
    if (button.dataset.view === view) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
  }
  if (view === "customers" && !SIDEBAR) guarded(() => showDirectory(state.directory.query));
  if (view === "apps" || view === "debugger") guarded(showApps);
  if (view === "debugger" && state.role === "admin") guarded(() => showAudit(document.getElementById("audit")));
}

// ---- sign-in -----------------------------------------------------------------
// With an identity provider: the authorization code flow with PKCE from this page (a public
// client: no secret here), the access token kept in this tab's sessionStorage only. In the
// sidebar the provider's pages open in a window of their own (providers refuse to be framed),
// which hands the token back to the frame and closes. Without a provider (make run): an API
// key. Either way the gateway says who is signed in (/api/v1/me).

const KEYS = { token: "linkmesh.token", idToken: "linkmesh.id_token", pending: "linkmesh.sign_in" };

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return `${location.origin}/`;
}

async function startSignIn(oidc, popup = false) {
  const verifier = randomText();
  const pending = { verifier, state: randomText(), redirect: redirectUri(), popup };
  store.setItem(KEYS.pending, JSON.stringify(pending));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    ...oidc.extra_params, response_type: "code", client_id: oidc.client_id, redirect_uri: pending.redirect, scope: oidc.scope,
    state: pending.state, nonce: randomText(), code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(`${oidc.authorization_endpoint}?${params}`);
}

// Back from the provider with ?code= (or ?error=): exchange the code, once, and clean the URL.
async function finishSignIn(oidc) {
  const answer = new URLSearchParams(location.search);
  if (!answer.has("code") && !answer.has("error")) return false;
  const pending = JSON.parse(store.getItem(KEYS.pending) || "null");
  store.removeItem(KEYS.pending);
  history.replaceState(null, "", location.pathname);
  if (answer.has("error")) throw new Error(`Sign-in failed: ${answer.get("error_description") || answer.get("error")}`);
  if (!oidc || !pending || pending.state !== answer.get("state")) throw new Error("Sign-in failed: the answer does not match a sign-in this tab started; sign in again");
  if (answer.has("iss") && answer.get("iss") !== oidc.issuer) throw new Error(`Sign-in failed: the answer came from ${answer.get("iss")}, not ${oidc.issuer}`);
  const response = await fetch(oidc.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: answer.get("code"), redirect_uri: pending.redirect,
      client_id: oidc.client_id, code_verifier: pending.verifier }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.access_token) throw new Error(`Sign-in failed: ${tokens.error_description || tokens.error || `HTTP ${response.status}`}`);
  if (pending.popup && window.opener) {  // opened by the sidebar: the token goes back to it, on this origin only
    window.opener.postMessage({ type: "linkmesh:signed-in", token: tokens.access_token, idToken: tokens.id_token || "" }, location.origin);
    window.close();
    return false;
  }
  state.token = tokens.access_token;
  store.setItem(KEYS.token, state.token);
  store.setItem(KEYS.idToken, tokens.id_token || "");
  return true;
}

async function showSignedIn() {
  const me = await api("GET", "/api/v1/me");
  state.role = me.role;
  const all = await connectors();
  document.getElementById("role").textContent = SIDEBAR ? `${me.name} (${me.role})`
    : `signed in as ${me.name} (${me.role}) · ${Object.keys(all).length} connectors`;
  for (const id of ["sso", "token", "key-sign-in"]) document.getElementById(id).hidden = true;
  document.getElementById("signout").hidden = false;
  // Only what this role may use: no tab that would answer 403.
  for (const node of document.querySelectorAll("[data-roles]")) node.hidden = !node.dataset.roles.split(" ").includes(me.role);
  document.querySelector("nav").hidden = false;
  const first = [...document.querySelectorAll("nav button")].find((b) => !b.hidden);
  if (SIDEBAR && me.role !== "agent") {
    document.getElementById("welcome").hidden = false;
    fill(document.getElementById("welcome"), el("p", {}, "The sidebar is for agents: open the console in its own tab for apps and the debugger."));
    return;
  }
  if (first) show(first.dataset.view);
  if (SIDEBAR) {
    const context = state.pendingContext || contextFromQuery();
    state.pendingContext = null;
    if (context) {
      state.lastContext = "";
      await openContext(context);
    }
    askHelpdesk();  // the conversation open now (the agent may have moved on while signing in)
  }
}

function signOut(oidc) {
  const idToken = store.getItem(KEYS.idToken);
  for (const key of Object.values(KEYS)) store.removeItem(key);
  Object.assign(state, { token: "", role: "", connectors: null, customer: null, searchTargets: null });
  if (oidc && oidc.end_session_endpoint && idToken && !SIDEBAR) {  // end the provider's session too
    const params = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: redirectUri(), client_id: oidc.client_id });
    location.assign(`${oidc.end_session_endpoint}?${params}`);
    return;
  }
  location.replace(`${location.origin}${location.pathname}${SIDEBAR ? location.search : ""}`);
}

async function setUpSignIn() {
  const config = await fetch("/api/v1/auth/config").then((r) => (r.ok ? r.json() : { oidc: null })).catch(() => ({ oidc: null }));
  state.frameOrigins = config.frame_ancestors || [];
  const oidc = config.oidc && config.oidc.authorization_endpoint ? config.oidc : null;
  const sso = document.getElementById("sso");
  sso.hidden = !oidc;
  if (config.oidc && config.oidc.error) notice(`Company sign-in is unavailable (${config.oidc.error}); sign in with an API key.`, true);
  sso.addEventListener("click", () => guarded(async () => {
    if (SIDEBAR) window.open(`${location.origin}/?signin=popup`, "linkmesh-sign-in", "popup,width=520,height=680");
    else await startSignIn(oidc);
  }));
  document.getElementById("signout").addEventListener("click", () => signOut(oidc));
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token").value.trim();
    state.connectors = null;
    store.setItem(KEYS.token, state.token);
    store.removeItem(KEYS.idToken);
    guarded(showSignedIn);
  });
  if (oidc && new URLSearchParams(location.search).get("signin") === "popup") {  // the sidebar's sign-in window
    await guarded(() => startSignIn(oidc, true));
    return;
  }
  await guarded(async () => {
    try {
      if ((await finishSignIn(oidc)) || state.token) await showSignedIn();
    } catch (error) {
      if (error.status === 401) {  // a token kept from before that no longer holds: sign in again
        store.removeItem(KEYS.token);
        state.token = "";
      }
      throw error;
    }
  });
}

function main() {
  if (SIDEBAR) document.body.classList.add("sidebar");
  listenToHelpdesk();
  setUpSignIn();
  for (const button of document.querySelectorAll("nav button")) button.addEventListener("click", () => show(button.dataset.view));
  const lookup = document.getElementById("lookup");
  lookup.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => showDirectory(lookup.query.value.trim()));
  });
  const contact = document.getElementById("contact-form");
  contact.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => busy(document.getElementById("contact"), () => recordContact({ channel: contact.channel.value, ...contactFields(contact) })));
  });
  document.getElementById("create").addEventListener("click", (e) => guarded(() => busy(e.currentTarget, () => createCustomer(contact))));
  document.getElementById("new-app").addEventListener("click", () => guarded(newApp));
  const debug = document.getElementById("debug");
  debug.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => dryRun(debug)); });
  const filter = document.getElementById("log-filter");
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const filters = Object.fromEntries(["app_id", "customer_id", "kind", "outcome"].map((n) => [n, filter[n].value.trim()]));
    guarded(() => showLog(filters, document.getElementById("log-result")));
  });
  const audit = document.getElementById("audit");
  audit.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => showAudit(audit)); });
}

main();
