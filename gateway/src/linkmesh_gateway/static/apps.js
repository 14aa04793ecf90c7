// Apps (admins): made and edited from each connector's own settings form.

import { show } from "./console.js";
import { showKeys } from "./keys.js";
import { ago, api, busy, confirmAction, connectors, el, fill, guarded, humanize, link, ownWords, state, table } from "./lib.js";

// How calls to an app have gone, as the replica that answered saw them: answering, failing,
// paused (its circuit open after repeated failures) or not called yet.
function health(app) {
  const h = app.health;
  if (!h) return null;
  const failure = h.last_failure_at ? el("div", { class: "muted" }, `Last failure ${ago(h.last_failure_at)}${ownWords(h.last_error) ? `: ${ownWords(h.last_error)}` : ""}`) : null;
  if (h.state === "open") {
    return [el("span", { class: "badge bad" }, "Paused"), el("div", { class: "muted" },
      `After ${h.consecutive_failures} failures in a row; tried again in ${Math.ceil(h.retry_in_s)} s`), failure];
  }
  if (h.state === "half_open" || h.consecutive_failures) return [el("span", { class: "badge warn" }, "Failing"), failure];
  const answered = h.last_success_at ? el("div", { class: "muted" }, `Last answer ${ago(h.last_success_at)}`) : null;
  return [el("span", { class: `badge ${h.last_success_at ? "ok" : "neutral"}` }, h.last_success_at ? "Answering" : "Not called yet"), answered, failure];
}

// ---- apps --------------------------------------------------------------------
// An app is made and edited from its connector's own settings form (Describe): every setting
// with its label and hint, secrets as write-only fields, every invalid field shown at once.

export async function showApps() {
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
  fill(document.getElementById("app-list"), answer.apps.length ? table(["App", "System", "State", "Health", "Change events", "Auto-link", "Actions", ""], answer.apps.map((a) => [
    el("strong", {}, a.name), (all[a.type] || {}).display_name || a.type,
    el("span", { class: `badge ${a.active ? "ok" : "neutral"}` }, a.active ? "Active" : "Inactive"),
    a.active ? health(a) : el("span", { class: "muted" }, "Not called while inactive"), events(a),
    a.auto_link_fields.map(humanize).join(", ") || "Off", a.actions_enabled ? "On" : "Off",
    el("div", { class: "row" }, admin ? el("button", { type: "button", onclick: () => guarded(() => editApp(a)) }, "Edit") : null, admin ? toggle(a) : null,
      el("button", { type: "button", onclick: () => guarded(() => openLookups(a.id)) }, "Lookups")),
  ])) : el("p", { class: "muted" }, "No app yet."));
  for (const select of document.querySelectorAll("#debug select[name=app_id], #log-filter select[name=app_id], #audit-filter select[name=app_id]")) {
    const chosen = select.value;
    const any = select.closest("#debug") ? null : el("option", { value: "" }, "Every app");
    fill(select, any, ...answer.apps.map((a) => el("option", { value: a.id, selected: a.id === chosen }, a.name)));
  }
  state.apps = answer.apps;
  if (admin && document.getElementById("apps").hidden === false) await showKeys();
  return answer.apps;
}

// Whether linkmesh hears of the app's changes from its vendor (webhooks), in words.
const EVENTS = { active: ["Subscribed", "ok"], not_offered: ["Read when due", "neutral"], needs_setting: ["Needs a setting", "warn"],
  off: ["Off", "neutral"], failed: ["Failed", "bad"], removed: ["Removed", "neutral"] };

function events(app) {
  const w = app.webhooks;
  if (!w) return el("span", { class: "muted" }, "Not asked yet");
  const [label, kind] = EVENTS[w.state] || [w.state, "neutral"];
  return [el("span", { class: `badge ${kind}` }, label),
    w.state === "active" ? el("div", { class: "muted" }, `${w.topics.length} topics${w.message ? `; ${w.message}` : ""}`)
      : w.message ? el("div", { class: "muted" }, w.message) : null];
}

// The lookup log, of this app.
function openLookups(appId) {
  document.getElementById("log-filter").app_id.value = appId;
  show("debugger");
}

export async function newApp() {
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
      value: s.secret ? "" : (app ? app.settings[s.name] || "" : ""), required: s.required && !(s.secret && isSet) });
    const hint = [s.hint, !s.secret && s.default_value ? `Default: ${s.default_value}.` : "",
      s.secret ? (isSet ? "Set: leave it empty to keep it." : "Write-only: never shown again.") : "",
      s.credentials_destination && app ? "Changing it requires entering the secrets again." : ""].filter(Boolean).join(" ");
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
