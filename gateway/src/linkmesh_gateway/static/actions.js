// The actions on a linked system's records: a custom adaptor's forms, the built-in actions
// (refund, cancel, discount code, start a return), what each will do said before it runs.

import { ApiError, actionResult, api, busy, confirmAction, el, fill, followUnknown, guarded, humanize, keyedRequests, money, orderRef, settle, state, when } from "./lib.js";
import { openProfile } from "./profile.js";
import { orderStatus } from "./status.js";

// Where an action's form opens and its answer stays: one holder per record (an order, the
// customer at a system), its form slot kept when the card is drawn again as a refresh arrives.
export function resultKey(linked, name, scope = "") {
  return `${linked.app_id}|${name}|${scope}`;
}

export function openIn(holder, form) {
  const slot = holder.querySelector(".form-slot");
  fill(slot, form);
  form.querySelector("input:not([type=hidden]), select, button")?.focus();
}

// An action a linked record offers (a custom lookup adaptor's): its form is read from that
// system when opened, and its values are posted once per key. A refusal that names fields
// keeps the form open with each field's error (and a new key for the corrected values); a
// refusal of the action closes it with the message; success shows it and the refreshed profile.
export async function openRecordAction(customer, linked, action, holder, scope) {
  const params = new URLSearchParams({ app_id: linked.app_id, form_url: action.form_url });
  const form = await api("GET", `/api/v1/customers/${customer.id}/action-form?${params}`);
  const keyFor = keyedRequests();
  const key = resultKey(linked, "record", scope);
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
  const close = () => fill(holder.querySelector(".form-slot"));
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(errors)) box.textContent = "";
    general.textContent = "";
    const values = Object.fromEntries(Object.entries(inputs).map(([n, i]) => [n, i.type === "checkbox" ? i.checked : i.value.trim()]));
    const body = { app_id: linked.app_id, form_url: action.form_url, params: values };
    try {
      const result = await api("POST", `/api/v1/customers/${customer.id}/actions`, body, { "Idempotency-Key": keyFor(body) });
      state.results.set(key, actionResult(result));
      await openProfile(customer.id, result.customer);
    } catch (first) {
      const error = await followUnknown(customer.id, body, keyFor(body), key, linked.app_name, first);
      if (error === null) return;
      if (!(error instanceof ApiError) || error.status >= 500) {  // the outcome may be unknown: the same values keep their key
        general.textContent = `${error.message} — it may or may not have run; sending the same values again cannot run it twice.`;
        return;
      }
      const named = Object.entries(error.fields).filter(([f]) => f.startsWith("params.") && errors[f.slice(7)]);
      for (const [f, message] of named) errors[f.slice(7)].textContent = message;
      if (error.status === 409) {
        close();
        settle(key, { error: true, text: `${action.name}: ${error.reason}`, urls: [] });
      } else if (!named.length) {
        general.textContent = error.message;
      }
    }
  };
  const run = el("button", { type: "submit", class: "primary" }, form.submit_label);
  settle(key, undefined);
  openIn(holder, el("form", { class: "record-action", onsubmit: (e) => guarded(() => busy(run, () => submit(e))) },
    el("strong", {}, form.title), rows, general,
    el("div", { class: "row" }, run, el("button", { type: "button", onclick: close }, form.close_label))));
}

// Which orders an action applies to: not to a cancelled or refunded order, and a cancel not to
// one already shipped.
const STOPPED = new Set(["Cancelled", "Refunded", "Closed", "Payment failed"]);
const SENT = new Set(["Shipped", "Partly shipped", "Delivered", "Completed"]);

export function appliesTo(spec, order) {
  const status = orderStatus(order).label;
  if (STOPPED.has(status) || /incomplete/i.test(order.status || "")) return false;
  if (spec.name === "refund" && status === "Unpaid") return false;
  if (spec.name === "cancel" && (order.fulfilled || SENT.has(status))) return false;
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

function itemCount(order) {
  return order ? order.lines.reduce((n, l) => n + (Number(l.quantity) || 0), 0) : 0;
}

// What each box of the form does, in money and goods: refunds 179.00 USD to the original
// payment, restocks 2 items, emails the customer (or that it does not).
function boxSentences(spec, order, values) {
  const said = { refund: (on) => on ? `Refunds ${order && money(order.total) ? money(order.total) : "the payment"} to the original payment method.` : "Does not refund the payment.",
    restock: (on) => { const n = itemCount(order); return on ? `Restocks ${n ? `${n} item${n === 1 ? "" : "s"}` : "the items"}.` : "Does not restock the items."; },
    notify: (on) => on ? "Emails the customer." : "Does not email the customer." };
  said.notify_customer = said.notify;
  return (spec.fields || []).filter((f) => f.type === "boolean").map((f) => {
    const on = values[f.name] === "true";
    return (said[f.name] || ((yes) => `${f.label}: ${yes ? "yes" : "no"}.`))(on);
  });
}

// What the action will do, said before it runs: the connector's own words (its effect), then
// what the chosen values change.
function preview(spec, linked, order, orderNumber, values, lines) {
  const where = `at ${linked.app_name}`;
  const ref = order ? `order ${orderRef(order)}` : `order ${orderNumber}`;
  const effect = spec.effect ? el("p", {}, spec.effect) : null;
  if (spec.name === "refund") {
    const picked = lines && !lines.all ? lines.chosen : null;
    return {
      title: `Refund ${ref} ${where}?`,
      lines: [
        picked ? el("ul", {}, picked.map(([l, n]) => el("li", {}, `${n} × ${l.name} (${money(l.unit_price)})`))) :
          el("p", {}, `Every line not refunded yet${order && money(order.total) ? ` (order total ${money(order.total)})` : ""}.`),
        picked ? el("p", {}, el("strong", {}, `Refund ${sum(picked)}`), " to the original payment method.") : null,
        effect,
        ...boxSentences(spec, order, values).map((t) => el("p", {}, t)),
        values.reason ? el("p", { class: "muted" }, `Reason: ${values.reason}`) : null,
      ].filter(Boolean),
      yes: picked ? `Refund ${sum(picked)}` : "Refund the order",
    };
  }
  if (spec.name === "cancel") {
    const state = order ? el("p", { class: "muted" }, `${humanize(order.status)}, total ${money(order.total) || "not shown"}.`) : null;
    return { title: `Cancel ${ref} ${where}?`, yes: "Cancel the order",
      lines: [state, effect, ...boxSentences(spec, order, values).map((t) => el("p", {}, t))].filter(Boolean) };
  }
  const booleans = new Set((spec.fields || []).filter((f) => f.type === "boolean").map((f) => f.name));
  const labels = Object.fromEntries((spec.fields || []).map((f) => [f.name, Object.fromEntries((f.choices || []).map((c) => [c.value, c.label]))]));
  const details = Object.entries(values).filter(([k, v]) => v && !booleans.has(k)).map(([k, v]) => `${humanize(k)}: ${(labels[k] || {})[v] || v}`);
  return { title: `${spec.label}${spec.order_required ? ` for ${ref}` : ""} ${where}?`, yes: spec.label,
    lines: [effect, details.length ? el("ul", {}, details.map((d) => el("li", {}, d))) : null,
      ...boxSentences(spec, order, values).map((t) => el("p", {}, t))].filter(Boolean) };
}

// One field of a built-in action's form, with the box its error is said in.
function fieldOf(f, id, inputs, fieldErrors) {
  let input;
  if (f.type === "select") {
    const labels = Object.fromEntries((f.choices || []).map((c) => [c.value, c.label]));
    input = el("select", { id: id(f.name), name: f.name, required: f.required }, f.required ? null : el("option", { value: "" }, ""),
      (f.options || []).map((o) => el("option", { value: o, selected: o === f.default_value }, labels[o] || humanize(o))));
  } else if (f.type === "boolean") {
    // Shown as the vendor acts when nothing is sent, and always sent as true or false.
    input = el("input", { id: id(f.name), name: f.name, type: "checkbox", checked: f.default_value === "true" });
  } else {
    input = el("input", { id: id(f.name), name: f.name, required: f.required, autocomplete: "off", value: f.default_value || "",
      inputmode: f.type === "integer" ? "numeric" : f.type === "decimal" ? "decimal" : undefined });
  }
  inputs[f.name] = input;
  fieldErrors[f.name] = el("div", { class: "field-error", id: id(`${f.name}-error`) });
  input.setAttribute("aria-describedby", id(`${f.name}-error`));
  return el("label", { for: id(f.name) }, `${f.label}${f.required ? " (required)" : ""}`, input,
    f.hint ? el("small", { class: "muted" }, f.hint) : null, fieldErrors[f.name]);
}

// Acting on data the system could not refresh: asked once more, in words, before the preview.
async function stillGoOn(linked) {
  return !linked.stale || confirmAction(`${linked.app_name}'s data may be out of date`, [
    el("p", {}, `${linked.app_name} did not answer the last refresh; what is shown is from ${when(linked.refreshed_at || linked.linked_at)}.`),
    el("p", {}, "The order may have changed since (shipped, refunded, cancelled). The system checks again when the action runs."),
  ], "Go on with this data", true);
}

// Sends the action once per set of values; its answer is kept under the record it ran on.
async function send(customer, linked, body, key, keyFor, fieldErrors) {
  try {
    const result = await api("POST", `/api/v1/customers/${customer.id}/actions`, body, { "Idempotency-Key": keyFor(body) });
    state.results.set(key, actionResult(result));
    await openProfile(customer.id, result.customer);
  } catch (first) {
    const error = await followUnknown(customer.id, body, keyFor(body), key, linked.app_name, first);
    if (error === null) return;
    const unknown = !(error instanceof ApiError) || error.status >= 500;
    // A refusal that names fields is shown at each field; the corrected values are a new request.
    const named = unknown ? [] : Object.entries(error.fields).filter(([f]) => f.startsWith("params.") && fieldErrors[f.slice(7)]);
    for (const [f, message] of named) fieldErrors[f.slice(7)].textContent = message;
    settle(key, { error: true, urls: [], text: unknown
      ? `${error.message} — it may or may not have run; Review and run again with the same values cannot run it twice.`
      : named.length ? `Not run: ${error.reason}.` : `Not run: ${error.message}` });
  }
}

// A built-in action (refund, cancel, discount code, start a return), opened from the menu of the
// order it applies to (or of the customer, where the system shows no orders and the order number
// is typed in): what it will do is shown and asked once; its answer stays under the record.
export function actionForm(customer, linked, spec, order, holder) {
  const keyFor = keyedRequests();
  const key = resultKey(linked, spec.name, order ? order.id : "");
  const inputs = {};
  const fieldErrors = {};
  const id = (name) => `${linked.app_id}-${spec.name}-${order ? order.id : "customer"}-${name}`;
  const typed = spec.order_required && !order
    ? el("input", { id: id("order"), name: "order_id", autocomplete: "off", required: true }) : null;
  let picker = null;
  const fields = (spec.fields || []).map((f) => {
    if (f.type === "lines" && order) {
      picker = linePicker(order, f);
      return picker.box;
    }
    return fieldOf(f, id, inputs, fieldErrors);
  });
  const submit = async (event) => {
    event.preventDefault();
    for (const box of Object.values(fieldErrors)) box.textContent = "";
    settle(key, undefined);
    const params = Object.fromEntries(Object.entries(inputs)
      .map(([n, i]) => [n, i.type === "checkbox" ? String(i.checked) : i.value.trim()]).filter(([, v]) => v));
    const lines = picker ? picker.value() : null;
    if (lines && !lines.all && !lines.chosen.length) {
      settle(key, { error: true, urls: [], text: "Choose at least one line to refund." });
      return;
    }
    if (lines && lines.text) params.lines = lines.text;
    const body = { app_id: linked.app_id, action: spec.name, params };
    if (order) body.order_id = order.id;
    else if (typed) body.order_id = typed.value.trim();
    if (!(await stillGoOn(linked))) return;
    const said = preview(spec, linked, order, body.order_id, params, lines);
    if (!(await confirmAction(said.title, said.lines, said.yes, spec.name !== "create_discount_code" && spec.name !== "generate_coupon"))) return;
    await send(customer, linked, body, key, keyFor, fieldErrors);
  };
  const run = el("button", { type: "submit", class: "primary" }, "Review");
  const close = el("button", { type: "button", onclick: () => fill(holder.querySelector(".form-slot")) }, "Close");
  return el("form", { class: "action", "data-action": spec.name, "aria-label": spec.label, onsubmit: (e) => guarded(() => busy(run, () => submit(e))) },
    el("strong", { class: "action-title" }, spec.label, order ? ` · order ${orderRef(order)} · ${money(order.total)}` : ""),
    typed ? el("label", { for: id("order") }, "Order number (required)", typed) : null,
    fields, el("div", { class: "row" }, run, close));
}
