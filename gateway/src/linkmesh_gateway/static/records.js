// A linked system's records as one-line rows: orders, returns and other records (a custom
// adaptor's), each opening for its lines, shipments and items, with its actions in a menu.

import { day, el, humanize, link, money, orderRef, shortDay, when } from "./lib.js";
import { badge, deliveryStatus, orderStatus, returnStatus } from "./status.js";

// What a connector could not read in time is said, never passed off as all there is.
const PARTIAL = { shipments: "More shipments could not be loaded in time.", lines: "More lines could not be loaded in time.",
  product_links: "Some product links could not be loaded in time.", orders: "Older orders could not be loaded in time.",
  returns: "More returns could not be loaded in time." };

export function partialNote(partial, part) {
  return (partial || []).includes(part) ? el("p", { class: "stale" }, PARTIAL[part]) : null;
}

function carrierName(carrier) {
  return carrier && carrier.length <= 4 ? carrier.toUpperCase() : carrier;  // "ups" → "UPS"
}

// "UPS 1Z999AA10123456784": the carrier and the tracking number, a link where the system gives one.
export function tracking(s) {
  return [el("strong", {}, carrierName(s.carrier) || s.method || "Shipment"), s.carrier && s.method ? el("span", { class: "muted" }, ` (${s.method})`) : null,
    s.tracking_number ? [" ", link(s.tracking_url, s.tracking_number)] : null];
}

// Where the parcel is, in words, with when it arrived (where the vendor tells).
export function delivery(s) {
  const status = deliveryStatus(s);
  return status ? [" ", badge(status), s.delivered_at ? el("span", { class: "muted" }, ` ${day(s.delivered_at)}`) : null] : null;
}

function shipmentLine(s) {
  return el("li", {}, tracking(s), s.shipped_at ? el("span", { class: "muted" }, ` · shipped ${day(s.shipped_at)}`) : null, delivery(s));
}

let rows = 0;

// One line that opens: the toggle (a button that says whether it is open), the menu beside it,
// the body under both, and a holder for the form of an action run from the menu.
function row(kind, key, summary, menu, body, holder) {
  const id = `${kind}-${++rows}`;
  const panel = el("div", { class: "row-body", id, hidden: true }, body);
  const toggle = el("button", { type: "button", class: "row-toggle", "aria-expanded": "false", "aria-controls": id, onclick: () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  } }, summary);
  return el("li", { class: `record ${kind}`, [`data-${kind}`]: key, "data-key": `${kind}|${key}` }, el("div", { class: "record-line" }, toggle, menu), panel, holder);
}

export function orderRow(linked, o, menu, holder) {
  const status = orderStatus(o);
  return row("order", o.id, [el("span", { class: "code" }, orderRef(o)), el("span", { class: "muted" }, shortDay(o.created_at)), badge(status),
    el("span", { class: "total" }, money(o.total))], menu, [
    el("p", { class: "muted" }, status.vendor ? `${linked.app_name} says: ${status.vendor}` : "", o.fulfilled ? " · fulfilled" : "",
      o.admin_url ? [" · ", link(o.admin_url, `Open in ${linked.app_name}`)] : null),
    money(o.discount) ? el("p", { class: "muted" }, `Discount ${money(o.discount)}`) : null,
    o.lines.length ? el("ul", { "aria-label": "Lines" }, o.lines.map((l) => el("li", {}, `${l.quantity} × `, link(l.product_url, l.name),
      l.sku ? el("span", { class: "muted code" }, ` ${l.sku}`) : null, money(l.unit_price) ? ` · ${money(l.unit_price)}` : ""))) : null,
    partialNote(o.partial, "lines"), partialNote(o.partial, "product_links"),
    o.shipments.length ? el("ul", { "aria-label": "Shipments" }, o.shipments.map(shipmentLine)) : null,
    partialNote(o.partial, "shipments"),
  ], holder);
}

export function returnRow(linked, r) {
  const status = returnStatus(r);
  const refund = money(r.refund_total);
  return row("return", r.id, [el("span", { class: "code" }, r.code || r.id), r.created_at ? el("span", { class: "muted" }, shortDay(r.created_at)) : null,
    badge(status), el("span", { class: "total" }, refund ? `Refund ${refund}` : "")], null, [
    el("p", { class: "muted" }, [status.vendor ? `${linked.app_name} says: ${status.vendor}` : "", r.order_id ? `for order ${orderRef({ number: r.order_id })}` : ""]
      .filter(Boolean).join(" · "), r.admin_url ? [" · ", link(r.admin_url, `Open in ${linked.app_name}`)] : null),
    money(r.exchange_total) ? el("p", { class: "muted" }, `Exchange ${money(r.exchange_total)}`) : null,
    money(r.store_credit) ? el("p", { class: "muted" }, `Store credit ${money(r.store_credit)}`) : null,
    r.items.length ? el("ul", { "aria-label": "Items" }, r.items.map((i) => el("li", {}, `${i.quantity} × ${i.name}`, i.sku ? el("span", { class: "muted code" }, ` ${i.sku}`) : null,
      i.reason ? el("span", { class: "muted" }, ` (${i.reason})`) : null))) : null,
    r.return_shipment ? el("ul", { "aria-label": "Return shipment" }, shipmentLine(r.return_shipment)) : null,
  ], null);
}

// Another kind of record (a subscription, a loyalty account): its title and type on the line.
export function transactionRow(t, menu, holder) {
  return row("transaction", t.id || t.title, [el("span", {}, t.title), el("span", { class: "muted" }, humanize(t.type || ""))], menu,
    [t.created_at ? el("p", { class: "muted" }, when(t.created_at)) : null,
      el("dl", { class: "attributes" }, t.fields.map((f) => [el("dt", {}, f.label), el("dd", {}, link(f.url, f.value))]))], holder);
}
