// Order, return and shipment states in a few words every system shares (paid, unfulfilled, shipped,
// delivered, partly refunded, refunded, cancelled, closed), each badge keeping the vendor's own word
// on hover and in the open order. Red is kept for what needs someone's attention.

import { el, humanize } from "./lib.js";

// In order: the first rule whose pattern matches the vendor's word names the state.
const ORDER_RULES = [
  [/disput|chargeback|fraud/, "Disputed", "bad"],
  [/declin|fail|payment.?error/, "Payment failed", "bad"],
  [/hold|review|verification/, "On hold", "warn"],
  [/cancel|void/, "Cancelled", "neutral"],
  [/partial\w*.?refund/, "Partly refunded", "neutral"],
  [/refund/, "Refunded", "neutral"],
  [/deliver/, "Delivered", "ok"],
  [/partial\w*.?(ship|fulfil)/, "Partly shipped", "info"],
  [/shipped|fulfilled|in.?transit|out.?for/, "Shipped", "ok"],
  [/complete/, "Completed", "ok"],
  [/closed|archiv/, "Closed", "neutral"],
  [/expired/, "Payment failed", "bad"],
  [/awaiting.?payment|pending.?payment|payment.?pending|unpaid|^pending$|incomplete/, "Unpaid", "warn"],
  [/awaiting|processing|unfulfilled|paid|open|new|pending/, "Unfulfilled", "info"],
];

const RETURN_RULES = [
  [/reject|declin|denied|cancel|void/, "Cancelled", "neutral"],
  [/refund/, "Refunded", "neutral"],
  [/closed|complete|resolved|archiv/, "Closed", "neutral"],
  [/receiv|deliver|arrived/, "Received", "info"],
  [/transit|shipped|on.?its.?way/, "On its way back", "info"],
  [/approv|authori|open|accept/, "Approved", "info"],
  [/request|pending|new|submitted/, "Requested", "warn"],
];

// States after which a return needs nothing more.
const RETURN_DONE = new Set(["Cancelled", "Refunded", "Closed"]);

function classify(rules, word) {
  const s = String(word || "").toLowerCase().trim();
  if (!s) return null;
  const hit = rules.find(([pattern]) => pattern.test(s));
  return hit ? { label: hit[1], kind: hit[2], vendor: humanize(word) } : { label: humanize(word), kind: "neutral", vendor: humanize(word) };
}

// Where a parcel is, where the vendor tells (its carrier's events); attention where it went wrong.
const DELIVERY = { in_transit: ["In transit", "info"], out_for_delivery: ["Out for delivery", "info"], delivered: ["Delivered", "ok"],
  attempted_delivery: ["Delivery attempted", "warn"], delayed: ["Delayed", "warn"], failed: ["Not delivered", "bad"],
  ready_for_pickup: ["Ready for pickup", "info"], picked_up: ["Picked up", "ok"] };

export function deliveryStatus(shipment) {
  const found = DELIVERY[shipment.delivery];
  return found ? { label: found[0], kind: found[1], vendor: "" } : null;
}

// An order's state; an order the vendor says is fulfilled reads as shipped whatever its payment
// word, and as delivered once every parcel is.
export function orderStatus(order) {
  const found = classify(ORDER_RULES, order.status);
  const sent = order.fulfilled && (!found || ["Unfulfilled", "Completed", "Shipped"].includes(found.label));
  const shipments = order.shipments || [];
  if ((sent || (found && found.label === "Shipped")) && shipments.length && shipments.every((s) => s.delivery === "delivered" || s.delivery === "picked_up")) {
    return { label: "Delivered", kind: "ok", vendor: found ? found.vendor : "" };
  }
  if (sent) return { label: "Shipped", kind: "ok", vendor: found ? found.vendor : "" };
  return found || { label: order.fulfilled ? "Shipped" : "Unknown", kind: "neutral", vendor: "" };
}

export function returnStatus(ret) {
  return classify(RETURN_RULES, ret.status) || { label: "Unknown", kind: "neutral", vendor: "" };
}

export function isOpenReturn(ret) {
  return !RETURN_DONE.has(returnStatus(ret).label);
}

// An order that no longer counts toward what a customer spent.
export function isVoid(order) {
  return orderStatus(order).label === "Cancelled";
}

// The badge: the state in words, the vendor's own word on hover and for screen readers.
export function badge(status) {
  if (!status) return null;
  const differs = status.vendor && status.vendor.toLowerCase() !== status.label.toLowerCase();
  return el("span", { class: `badge ${status.kind}`, title: differs ? `${status.vendor} (the system's own word)` : null },
    status.label, differs ? el("span", { class: "visually-hidden" }, ` (${status.vendor})`) : null);
}
