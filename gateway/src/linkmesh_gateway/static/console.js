// linkmesh web console: a thin client of the gateway's REST API (/api/v1).
// Everything shown comes from the API; text is always set with textContent.

const state = { token: sessionStorage.getItem("linkmesh.token") || "", role: "", connectors: null, customer: null, results: new Map() };

// ---- helpers ---------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function link(url, text) {
  return url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url) : text || "";
}

function money(m) {
  return m && m.amount ? `${m.amount} ${m.currency}` : "";
}

function when(ts) {
  return ts ? new Date(ts).toLocaleString() : "";
}

function notice(text, isError = false) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.className = isError ? "error" : "muted";
}

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    const fields = Object.entries(err.fields || {}).map(([f, m]) => `${f}: ${m}`).join("; ");
    super(`${err.message || `HTTP ${status}`}${fields ? ` (${fields})` : ""}`);
    this.status = status;
    this.code = err.code;
    this.reason = err.message || `HTTP ${status}`;
    this.fields = err.fields || {};
  }
}

async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new ApiError(response.status, payload);
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

// An action's answer is shown at the form that ran it, and kept there when the profile is
// drawn again (state.results, per app and action, forgotten when another customer opens).
function actionResult(result) {
  const detail = (result.result || {}).detail;
  const urls = Object.entries(result.result || {}).filter(([, v]) => /^https?:\/\//.test(v));
  return { error: false, text: `${result.message}${detail ? ` — ${detail}` : ""}${result.replayed ? " (answered again)" : ""}`, urls };
}

function paintResult(box, entry) {
  box.className = entry ? (entry.error ? "result error" : "result ok") : "result";
  box.replaceChildren(...(entry ? [el("span", {}, entry.text),
    ...entry.urls.map(([name, url]) => el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name === "url" ? "Open" : name))] : []));
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
  return el("table", {}, el("tr", {}, headers.map((h) => el("th", {}, h))), rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))));
}

// ---- customers -------------------------------------------------------------

async function findCustomers(form) {
  const params = new URLSearchParams();
  for (const name of ["email", "phone"]) if (form[name].value.trim()) params.set(name, form[name].value.trim());
  const answer = await api("GET", `/api/v1/customers?${params}`);
  const results = document.getElementById("results");
  results.replaceChildren(
    answer.customers.length
      ? table(["Name", "Emails", "Phones", ""], answer.customers.map((c) => [
          c.name || "(no name)", c.emails.join(", "), c.phones.join(", "),
          el("button", { onclick: () => guarded(() => openProfile(c.id)) }, "Open"),
        ]))
      : el("p", { class: "muted" }, "No customer has this email or phone."),
  );
}

async function createCustomer(form) {
  const name = prompt("Name of the new customer") || "";
  const body = { name, emails: form.email.value.trim() ? [form.email.value.trim()] : [], phones: form.phone.value.trim() ? [form.phone.value.trim()] : [] };
  const customer = await api("POST", "/api/v1/customers", body);
  renderProfile(customer);
}

async function recordContact(form) {
  const result = await api("POST", "/api/v1/contacts", { channel: "chat", email: form.email.value.trim(), phone: form.phone.value.trim() });
  notice(`${result.created ? "New customer" : "Customer found"}; linked ${result.linked.length} app(s), ${result.stale.length} stale.`);
  await openProfile(result.customer_id);
}

async function openProfile(id) {
  renderProfile(await api("GET", `/api/v1/customers/${encodeURIComponent(id)}`));
}

// What a connector could not read in time is said, never passed off as all there is.
const PARTIAL = { shipments: "more shipments could not be loaded in time", lines: "more lines could not be loaded in time",
  product_links: "some product links could not be loaded in time", orders: "older orders could not be loaded in time",
  returns: "more returns could not be loaded in time" };

function partialNote(partial, part) {
  return (partial || []).includes(part) ? el("div", { class: "stale" }, PARTIAL[part]) : null;
}

function ordersTable(orders, actionsOf) {
  return table(["Order", "Placed", "Status", "Total", "Discount", "Shipments", "Lines", ""], orders.map((o) => [
    link(o.admin_url, o.number || o.id), when(o.created_at), `${o.status}${o.fulfilled ? " · fulfilled" : ""}`, money(o.total), money(o.discount),
    el("div", {}, o.shipments.map((s) => el("div", {}, `${s.method || s.carrier}: `, link(s.tracking_url, s.tracking_number))),
      partialNote(o.partial, "shipments")),
    el("div", {}, o.lines.map((l) => el("div", {}, `${l.quantity} × `, link(l.product_url, l.name), ` (${l.sku}) ${money(l.unit_price)}`)),
      partialNote(o.partial, "lines"), partialNote(o.partial, "product_links")),
    actionsOf(o.actions),
  ]));
}

function transactionsTable(transactions, actionsOf) {
  return table(["Record", "Type", "Details", ""], transactions.map((t) => [
    el("span", {}, t.title, t.created_at ? el("div", { class: "muted" }, when(t.created_at)) : null), t.type,
    el("div", {}, t.fields.map((f) => el("div", {}, `${f.label}: ${f.value}`))),
    actionsOf(t.actions),
  ]));
}

// An action a linked record offers (a custom lookup adaptor's): its form is read from that
// system when opened, and its values are posted once per key. A refusal that names fields
// keeps the form open with each field's error (and a new key for the corrected values); a
// refusal of the action closes it with the message; success shows it and the refreshed profile.
function recordActionButton(customer, linked, action, holder) {
  return el("button", { type: "button", onclick: () => guarded(() => openRecordAction(customer, linked, action, holder)) }, action.name);
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
  const close = () => holder.replaceChildren();
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(errors)) box.textContent = "";
    general.textContent = "";
    const values = Object.fromEntries(Object.entries(inputs).map(([n, i]) => [n, i.type === "checkbox" ? i.checked : i.value.trim()]));
    const body = { app_id: linked.app_id, form_url: action.form_url, params: values };
    try {
      const result = await api("POST", `/api/v1/customers/${customer.id}/actions`, body, { "Idempotency-Key": keyFor(body) });
      state.results.set(resultKey, actionResult(result));
      await renderProfile(result.customer);
    } catch (error) {
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
  const run = el("button", { type: "submit" }, form.submit_label);
  settle(resultKey, undefined);
  holder.replaceChildren(el("form", { class: "record-action", onsubmit: (e) => guarded(() => busy(run, () => submit(e))) },
    el("strong", {}, form.title), rows, general,
    el("div", {}, run, el("button", { type: "button", onclick: close }, form.close_label))), resultBox(resultKey));
}

function returnsTable(returns) {
  return table(["Return", "Created", "Status", "Order", "Items", "Refund", "Exchange", "Label"], returns.map((r) => [
    link(r.admin_url, r.code), when(r.created_at), r.status, r.order_id,
    el("div", {}, r.items.map((i) => el("div", {}, `${i.quantity} × ${i.name} (${i.sku})${i.reason ? ` — ${i.reason}` : ""}`))),
    money(r.refund_total), money(r.exchange_total), r.return_shipment ? link(r.return_shipment.tracking_url, r.return_shipment.tracking_number) : "",
  ]));
}

function actionForm(customer, linked, spec) {
  const keyFor = keyedRequests();
  const resultKey = `${linked.app_id}|${spec.name}`;
  const inputs = {};
  const orders = (linked.data && linked.data.orders) || [];
  // An app that shows no orders (ReturnLogic) takes the order number typed in.
  const orderSelect = !spec.order_required ? null : orders.length
    ? el("select", { "aria-label": "order" }, orders.map((o) => el("option", { value: o.id }, `${o.number || o.id} (${o.status})`)))
    : el("input", { placeholder: "order number", "aria-label": "order" });
  const fields = (spec.fields || []).map((f) => {
    const input = f.type === "select"
      ? el("select", { name: f.name }, el("option", { value: "" }, ""), (f.options || []).map((o) => el("option", { value: o }, o)))
      : el("input", { name: f.name, placeholder: f.label + (f.required ? " *" : ""), title: f.hint || f.label });
    inputs[f.name] = input;
    return input;
  });
  const submit = async (event) => {
    event.preventDefault();
    const params = Object.fromEntries(Object.entries(inputs).map(([n, i]) => [n, i.value.trim()]).filter(([, v]) => v));
    const body = { app_id: linked.app_id, action: spec.name, params };
    if (orderSelect) body.order_id = orderSelect.value;
    try {
      const result = await api("POST", `/api/v1/customers/${customer.id}/actions`, body, { "Idempotency-Key": keyFor(body) });
      state.results.set(resultKey, actionResult(result));
      await renderProfile(result.customer);
    } catch (error) {
      const unknown = !(error instanceof ApiError) || error.status >= 500;
      settle(resultKey, { error: true, urls: [], text: unknown
        ? `${error.message} — it may or may not have run; Run again with the same values cannot run it twice.`
        : error.message });
    }
  };
  const run = el("button", { type: "submit" }, "Run");
  return el("div", { class: "action" },
    el("form", { onsubmit: (e) => guarded(() => busy(run, () => submit(e))) }, el("strong", {}, spec.label), orderSelect, fields, run),
    resultBox(resultKey));
}

async function renderLink(customer, linked) {
  const all = await connectors();
  const actions = linked.actions_enabled ? ((all[linked.app_type] || {}).actions) || [] : [];
  const data = linked.data || {};
  const holder = el("div", {}, resultBox(`${linked.app_id}|record`));
  const actionsOf = (list) => (linked.actions_enabled ? (list || []).map((a) => recordActionButton(customer, linked, a, holder)) : []);
  return el("div", { class: "card" },
    el("h3", {}, `${linked.app_name} · `, link(data.admin_url, linked.external_customer_id)),
    el("p", { class: "muted" }, `refreshed ${when(linked.refreshed_at)}`),
    linked.stale ? el("p", { class: "stale" }, `Stale since ${when(linked.stale.since)}: ${linked.stale.code} — ${linked.stale.message}`) : null,
    (data.custom_attributes || []).length ? el("p", {}, data.custom_attributes.map((a) => el("span", { class: "attribute" }, `${a.label}: `, link(a.url, a.value)))) : null,
    actionsOf(data.actions),
    holder,
    (data.orders || []).length ? ordersTable(data.orders, actionsOf) : null,
    partialNote(data.partial, "orders"),
    (data.returns || []).length ? returnsTable(data.returns) : null,
    partialNote(data.partial, "returns"),
    (data.transactions || []).length ? transactionsTable(data.transactions, actionsOf) : null,
    actions.map((spec) => actionForm(customer, linked, spec)),
  );
}

function searchPanel(customer) {
  const email = el("input", { placeholder: "email", value: customer.emails[0] || "", "aria-label": "search email" });
  const phone = el("input", { placeholder: "phone", value: customer.phones[0] || "", "aria-label": "search phone" });
  const out = el("div");
  const run = async (event) => {
    event.preventDefault();
    const answer = await api("POST", `/api/v1/customers/${customer.id}/external-search`, { app_id: "all", email: email.value.trim(), phone: phone.value.trim() });
    out.replaceChildren(
      table(["System", "Match", ""], answer.results.map((r) => [
        r.app_name, r.attributes.map((a) => `${a.label}: ${a.value}`).join(" · "),
        el("button", { onclick: () => guarded(async () => renderProfile(await api("POST", `/api/v1/customers/${customer.id}/links`, { app_id: r.app_id, external_customer_id: r.external_customer_id }))) }, "Link"),
      ])),
      answer.failures.map((f) => el("p", { class: "error" }, `${f.app_name}: ${f.code} — ${f.message}`)),
      answer.skipped.map((s) => el("p", { class: "muted" }, `${s.app_name}: ${s.reason}`)),
    );
  };
  return el("div", { class: "card" }, el("h3", {}, "Search all unlinked systems"),
    el("form", { onsubmit: (e) => guarded(() => run(e)) }, email, phone, el("button", { type: "submit" }, "Search")), out);
}

async function renderProfile(customer) {
  if (!state.customer || state.customer.id !== customer.id) state.results.clear();  // another customer: old answers go
  state.customer = customer;
  const profile = document.getElementById("profile");
  const attributes = Object.entries(customer.custom_attributes || {});
  const address = customer.address ? [customer.address.line1, customer.address.line2, customer.address.city, customer.address.region, customer.address.postal_code, customer.address.country_code].filter(Boolean).join(", ") : "";
  const links = await Promise.all(customer.links.map((l) => renderLink(customer, l)));
  profile.replaceChildren(
    el("div", { class: "card" },
      el("h3", {}, customer.name || "(no name)"),
      el("p", {}, [...customer.emails, ...customer.phones].join(" · ")),
      address ? el("p", {}, address) : null,
      attributes.length ? table(["Attribute", "Value", "From"], attributes.map(([k, v]) => [k, /^https?:\/\//.test(v) ? link(v) : v, customer.sources[`custom_attributes.${k}`] ? "linked app" : "agent"])) : null,
      el("div", { class: "row" },
        el("button", { onclick: () => guarded(() => openProfile(customer.id)) }, "Refresh"),
        customer.links.length ? el("button", { onclick: () => guarded(async () => {
          if (confirm("Unlink every external system? Their data leaves the profile and they never auto-link it again.")) {
            renderProfile(await api("DELETE", `/api/v1/customers/${customer.id}/links`));
          }
        }) }, "Unlink all") : null),
    ),
    ...links,
    searchPanel(customer),
  );
}

// ---- apps and debugger -----------------------------------------------------

async function showApps() {
  const answer = await api("GET", "/api/v1/apps");
  const toggle = (app) => el("button", { onclick: () => guarded(async () => {
    await (app.active ? api("POST", `/api/v1/apps/${app.id}/deactivate`) : api("POST", `/api/v1/apps/${app.id}/activate`));
    await showApps();
  }) }, app.active ? "Deactivate" : "Activate");
  document.getElementById("app-list").replaceChildren(table(["App", "Type", "Active", "Auto-link", "Actions", ""], answer.apps.map((a) => [
    a.name, a.type, a.active ? "yes" : "no", a.auto_link_fields.join(", ") || "off", a.actions_enabled ? "on" : "off",
    el("div", { class: "row" }, toggle(a), el("button", { onclick: () => guarded(() => showLookups(a)) }, "Lookups")),
  ])));
  const select = document.querySelector("#debug select[name=app_id]");
  select.replaceChildren(...answer.apps.map((a) => el("option", { value: a.id }, a.name)));
}

function tracesTable(traces) {
  return table(["When", "Kind", "Code", "Decision", "Reason / message", "ms"], traces.map((t) => [
    when(t.at), t.kind, t.code, t.decision, t.reason || t.message, t.latency_ms,
  ]));
}

async function showLookups(app) {
  const answer = await api("GET", `/api/v1/apps/${app.id}/lookups?limit=50`);
  document.getElementById("lookups").replaceChildren(el("div", { class: "card" }, el("h3", {}, `Recent lookups · ${app.name}`), tracesTable(answer.lookups)));
}

async function dryRun(form) {
  const answer = await api("POST", "/api/v1/debugger/lookup", {
    app_id: form.app_id.value, email: form.email.value.trim(), phone: form.phone.value.trim(), workflow: form.workflow.value,
  });
  document.getElementById("debug-result").replaceChildren(el("div", { class: "card" },
    el("h3", {}, answer.would_link ? `Would link ${answer.external_customer_id}` : "Would not link"), el("p", {}, answer.reason), tracesTable(answer.steps)));
}

// The audit log (admins): every write, its verified author and outcome, newest first.
async function showAudit(form, pageToken = "") {
  const holder = document.getElementById("audit-result");
  if (state.role && state.role !== "admin") {
    holder.replaceChildren(el("p", { class: "muted" }, "The audit log is for admins."));
    return;
  }
  const query = new URLSearchParams({ limit: "25" });
  for (const name of ["customer_id", "app_id", "action", "actor_id"]) if (form[name].value.trim()) query.set(name, form[name].value.trim());
  if (pageToken) query.set("page_token", pageToken);
  const page = await api("GET", `/api/v1/audit?${query}`);
  const who = (a) => `${a.name}${a.on_behalf_of ? ` for ${a.on_behalf_of}` : ""} (${a.role || a.kind})`;
  const details = (d) => Object.entries(d || {}).map(([k, v]) => `${k}: ${v}`).join("; ");
  holder.replaceChildren(el("div", { class: "card" }, el("h3", {}, "Audit log"),
    table(["When", "Who", "What", "Customer", "App", "Order", "Outcome", "Details"], page.entries.map((e) => [
      when(e.at), who(e.actor), e.action, e.customer_id, e.app_id, e.order_id,
      e.outcome === "OK" ? "OK" : `${e.outcome}: ${e.message}`, details(e.details),
    ])),
    page.next_page_token ? el("button", { type: "button", onclick: () => guarded(() => showAudit(form, page.next_page_token)) }, "Older") : null));
}

// ---- wiring ----------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.view === view);
  if (view === "apps" || view === "debugger") guarded(showApps);
  if (view === "debugger" && state.role === "admin") guarded(() => showAudit(document.getElementById("audit")));
}

// ---- sign-in -----------------------------------------------------------------
// With an identity provider: the authorization code flow with PKCE from this page (a public
// client: no secret here), the access token kept in this tab's sessionStorage only. Without
// one (make run): an API key. Either way the gateway says who is signed in (/api/v1/me).

const KEYS = { token: "linkmesh.token", idToken: "linkmesh.id_token", pending: "linkmesh.sign_in" };

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

async function startSignIn(oidc) {
  const verifier = randomText();
  const pending = { verifier, state: randomText(), redirect: redirectUri() };
  sessionStorage.setItem(KEYS.pending, JSON.stringify(pending));
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
  const pending = JSON.parse(sessionStorage.getItem(KEYS.pending) || "null");
  sessionStorage.removeItem(KEYS.pending);
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
  state.token = tokens.access_token;
  sessionStorage.setItem(KEYS.token, state.token);
  sessionStorage.setItem(KEYS.idToken, tokens.id_token || "");
  return true;
}

async function showSignedIn() {
  const me = await api("GET", "/api/v1/me");
  state.role = me.role;
  const all = await connectors();
  document.getElementById("role").textContent = `signed in as ${me.name} (${me.role}) · ${Object.keys(all).length} connectors`;
  for (const id of ["sso", "token", "key-sign-in"]) document.getElementById(id).hidden = true;
  document.getElementById("signout").hidden = false;
  // Only what this role may use: no tab that would answer 403.
  for (const node of document.querySelectorAll("[data-roles]")) node.hidden = !node.dataset.roles.split(" ").includes(me.role);
  document.querySelector("nav").hidden = false;
  const first = [...document.querySelectorAll("nav button")].find((b) => !b.hidden);
  if (first) show(first.dataset.view);
}

function signOut(oidc) {
  const idToken = sessionStorage.getItem(KEYS.idToken);
  for (const key of Object.values(KEYS)) sessionStorage.removeItem(key);
  Object.assign(state, { token: "", role: "", connectors: null, customer: null });
  if (oidc && oidc.end_session_endpoint && idToken) {  // end the provider's session too
    const params = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: redirectUri(), client_id: oidc.client_id });
    location.assign(`${oidc.end_session_endpoint}?${params}`);
    return;
  }
  location.replace(redirectUri());
}

async function setUpSignIn() {
  const config = await fetch("/api/v1/auth/config").then((r) => (r.ok ? r.json() : { oidc: null })).catch(() => ({ oidc: null }));
  const oidc = config.oidc && config.oidc.authorization_endpoint ? config.oidc : null;
  const sso = document.getElementById("sso");
  sso.hidden = !oidc;
  if (config.oidc && config.oidc.error) notice(`Company sign-in is unavailable (${config.oidc.error}); sign in with an API key.`, true);
  sso.addEventListener("click", () => guarded(() => startSignIn(oidc)));
  document.getElementById("signout").addEventListener("click", () => signOut(oidc));
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token").value.trim();
    state.connectors = null;
    sessionStorage.setItem(KEYS.token, state.token);
    sessionStorage.removeItem(KEYS.idToken);
    guarded(showSignedIn);
  });
  await guarded(async () => {
    try {
      if ((await finishSignIn(oidc)) || state.token) await showSignedIn();
    } catch (error) {
      if (error.status === 401) {  // a token kept from before that no longer holds: sign in again
        sessionStorage.removeItem(KEYS.token);
        state.token = "";
      }
      throw error;
    }
  });
}

function main() {
  setUpSignIn();
  for (const button of document.querySelectorAll("nav button")) button.addEventListener("click", () => show(button.dataset.view));
  const find = document.getElementById("find");
  find.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => findCustomers(find)); });
  document.getElementById("create").addEventListener("click", () => guarded(() => createCustomer(find)));
  document.getElementById("contact").addEventListener("click", () => guarded(() => recordContact(find)));
  const debug = document.getElementById("debug");
  debug.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => dryRun(debug)); });
  const audit = document.getElementById("audit");
  audit.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => showAudit(audit)); });
}

main();
