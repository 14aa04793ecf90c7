// The answer first: the latest order across every linked system with its state and tracking,
// the returns still open, what the customer spent per currency, and when each system was read.

import { agoText } from "./live.js";
import { day, el, guarded, inWords, money, orderRef, when } from "./lib.js";
import { delivery, tracking } from "./records.js";
import { badge, isOpenReturn, isVoid, orderStatus, returnStatus } from "./status.js";

// Amounts added as exact decimals (no 0.1 + 0.2): "179.00" + "138.45" → "317.45".
export function addAmounts(amounts) {
  const places = Math.max(0, ...amounts.map((a) => (String(a).split(".")[1] || "").length));
  const scale = 10n ** BigInt(places);
  const minor = (a) => {
    const [whole, part = ""] = String(a).replace(/^-/, "").split(".");
    const value = BigInt(whole || "0") * scale + BigInt((part + "0".repeat(places)).slice(0, places) || "0");
    return String(a).startsWith("-") ? -value : value;
  };
  const total = amounts.reduce((acc, a) => acc + minor(a), 0n);
  const sign = total < 0n ? "-" : "";
  const abs = total < 0n ? -total : total;
  return places ? `${sign}${abs / scale}.${String(abs % scale).padStart(places, "0")}` : `${sign}${abs}`;
}

function everyOrder(customer) {
  return customer.links.flatMap((l) => ((l.data && l.data.orders) || []).map((o) => ({ order: o, linked: l })));
}

// What the customer spent, per currency, over the orders the systems show (cancelled ones left out).
function spent(orders) {
  const byCurrency = new Map();
  for (const { order } of orders) {
    if (isVoid(order) || !order.total || !order.total.currency) continue;
    const list = byCurrency.get(order.total.currency) || [];
    list.push(order.total.amount || "0");
    byCurrency.set(order.total.currency, list);
  }
  return [...byCurrency.entries()].map(([currency, amounts]) => {
    const total = addAmounts(amounts);
    const places = (total.split(".")[1] || "").length;
    const shown = Number(total).toLocaleString(undefined, { minimumFractionDigits: places, maximumFractionDigits: places });
    return `${shown} ${currency} over ${amounts.length} order${amounts.length === 1 ? "" : "s"}`;
  });
}

// Opens an order's row wherever it is on the profile and brings it into view.
function showOrder(appId, orderId) {
  const row = document.querySelector(`#profile [data-app="${CSS.escape(appId)}"] [data-order="${CSS.escape(orderId)}"]`);
  if (!row) return;
  const toggle = row.querySelector(".row-toggle");
  if (toggle.getAttribute("aria-expanded") !== "true") toggle.click();
  row.scrollIntoView({ block: "nearest" });
  toggle.focus();
}

function latestLine(orders) {
  if (!orders.length) return el("p", { class: "muted" }, "No orders in the linked systems.");
  const { order, linked } = orders.reduce((a, b) => (String(b.order.created_at) > String(a.order.created_at) ? b : a));
  const shipment = order.shipments[order.shipments.length - 1];
  return el("div", { class: "latest" },
    el("p", { class: "glance-line" }, el("span", { class: "glance-label" }, "Latest order"),
      el("button", { type: "button", class: "link code", onclick: () => guarded(() => showOrder(linked.app_id, order.id)) }, orderRef(order)),
      el("span", { class: "muted" }, `at ${linked.app_name} · ${day(order.created_at)}`), badge(orderStatus(order)),
      el("span", { class: "total" }, money(order.total))),
    shipment ? el("p", { class: "glance-line tracking" }, el("span", { class: "glance-label" }, "Tracking"), tracking(shipment),
      shipment.shipped_at ? el("span", { class: "muted" }, `shipped ${day(shipment.shipped_at)}`) : null, delivery(shipment))
      : el("p", { class: "glance-line muted" }, el("span", { class: "glance-label" }, "Tracking"), "Not shipped yet"));
}

function returnsLine(customer) {
  const open = customer.links.flatMap((l) => ((l.data && l.data.returns) || []).filter(isOpenReturn).map((r) => ({ r, linked: l })));
  return el("p", { class: "glance-line" }, el("span", { class: "glance-label" }, "Open returns"),
    open.length ? open.map(({ r, linked }) => el("span", { class: "glance-item" }, el("span", { class: "code" }, r.code || r.id), badge(returnStatus(r)),
      el("span", { class: "muted" }, `at ${linked.app_name}`))) : el("span", { class: "muted" }, "None"));
}

// When each system's data was read; a system whose last refresh failed says so.
function readLine(customer, pending) {
  return el("p", { class: "glance-line" }, el("span", { class: "glance-label" }, "Read"),
    customer.links.map((l) => el("span", { class: l.stale ? "glance-item stale" : "glance-item muted",
      title: l.stale ? inWords(l.app_name, l.stale.code, l.stale.message) : null },
    pending.has(l.app_id) ? `${l.app_name}: checking…` : l.stale ? `${l.app_name}: failed, data from ${when(l.refreshed_at || l.linked_at)}`
      : agoText(l.refreshed_at, `${l.app_name}: `))));
}

export function summaryCard(customer, pending) {
  if (!customer.links.length) return null;
  const orders = everyOrder(customer);
  const total = spent(orders);
  return el("section", { class: "card summary", "aria-label": "At a glance" },
    latestLine(orders),
    returnsLine(customer),
    el("p", { class: "glance-line" }, el("span", { class: "glance-label" }, "Spent"), total.length ? total.join(" · ") : el("span", { class: "muted" }, "Nothing yet")),
    readLine(customer, pending));
}
