// API keys (admins): made, listed and revoked from the console. A key's secret is shown once,
// when it is made; only its first characters are ever shown again.

import { api, busy, confirmAction, el, fill, guarded, humanize, state, table, when } from "./lib.js";

const ROLES = { agent: "Agent: customers, links and actions", developer: "Developer: apps and lookups, read only", admin: "Admin: everything" };

function who(actor) {
  return actor ? `${actor.name || actor.id}${actor.role ? ` (${actor.role})` : ""}` : "";
}

async function revoke(key) {
  const ok = await confirmAction(`Revoke ${key.name}?`, [
    el("p", {}, `Every request made with the key that starts ${key.prefix} is refused from now on.`),
    el("p", {}, "The audit log keeps what it did. A revoked key cannot be used again; make a new one instead."),
  ], `Revoke ${key.name}`, true);
  if (!ok) return;
  await api("DELETE", `/api/v1/api-keys/${encodeURIComponent(key.id)}`);
  await showKeys(`${key.name} is revoked.`);
}

function keyForm() {
  const id = (n) => `key-${n}`;
  const name = el("input", { id: id("name"), name: "name", required: true, autocomplete: "off", maxlength: "100" });
  const role = el("select", { id: id("role"), name: "role" }, Object.entries(ROLES).map(([value, label]) => el("option", { value }, label)));
  const expires = el("input", { id: id("expires"), name: "expires", type: "date" });
  const others = el("input", { id: id("others"), name: "acts_for_others", type: "checkbox" });
  const errors = { name: el("div", { class: "field-error" }), role: el("div", { class: "field-error" }), expires_at: el("div", { class: "field-error" }) };
  const make = el("button", { type: "submit", class: "primary" }, "Make a key");
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(errors)) box.textContent = "";
    const body = { name: name.value.trim(), role: role.value, acts_for_others: others.checked,
      ...(expires.value ? { expires_at: `${expires.value}T00:00:00Z` } : {}) };
    try {
      const made = await api("POST", "/api/v1/api-keys", body);
      await showKeys("");
      fill(document.getElementById("key-made"), el("div", { class: "card secret", role: "status" },
        el("p", {}, el("strong", {}, `${made.name}'s key, shown this once:`)), el("p", {}, el("code", { class: "secret-value" }, made.secret)),
        el("p", { class: "muted" }, "Copy it now into the integration's settings; linkmesh keeps only a hash of it.")));
    } catch (error) {
      const fields = Object.entries(error.fields || {});
      for (const [field, message] of fields) (errors[field] || errors.name).textContent = message;
      if (!fields.length) throw error;
    }
  };
  return el("form", { class: "key-form", "aria-label": "Make an API key", onsubmit: (e) => guarded(() => busy(make, () => submit(e))) },
    el("label", { for: id("name") }, "Name (required)", name, el("small", { class: "muted" }, "Who or what uses it: the helpdesk, a script"), errors.name),
    el("label", { for: id("role") }, "Role", role, errors.role),
    el("label", { for: id("expires") }, "Expires on", expires, el("small", { class: "muted" }, "Leave empty for a key that does not expire"), errors.expires_at),
    el("label", { for: id("others") }, others, "May act for the people it names (X-Actor)"),
    make);
}

export async function showKeys(said = "") {
  const holder = document.getElementById("api-keys");
  if (state.role !== "admin") return fill(holder);
  const answer = await api("GET", "/api/v1/api-keys");
  fill(holder, el("h2", {}, "API keys"), keyForm(), el("div", { id: "key-made" }),
    said ? el("p", { class: "ok", role: "status" }, said) : null,
    answer.api_keys.length ? table(["Name", "Role", "Starts with", "Made", "Last used", "Expires", ""], answer.api_keys.map((k) => [
      el("strong", {}, k.name), humanize(k.role), el("code", {}, k.prefix), el("span", {}, when(k.created_at), k.created_by ? el("div", { class: "muted" }, `by ${who(k.created_by)}`) : null),
      k.last_used_at ? when(k.last_used_at) : el("span", { class: "muted" }, "Never"), k.expires_at ? when(k.expires_at) : el("span", { class: "muted" }, "Never"),
      el("button", { type: "button", class: "danger", onclick: () => guarded(() => revoke(k)) }, "Revoke"),
    ])) : el("p", { class: "muted" }, "No API key yet: the console signs in with the bootstrap tokens or company accounts."));
}
