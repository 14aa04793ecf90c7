// Inside a helpdesk (/sidebar): the customer of the open conversation, from the page's query or the helpdesk's messages.

import { recordContact } from "./directory.js";
import { el, fill, guarded, state, store } from "./lib.js";
import { KEYS, showSignedIn } from "./signin.js";

// ---- inside a helpdesk (/sidebar) ------------------------------------------
// The customer of the conversation the agent has open comes from the page's query
// (?email=&phone=&name=&channel=) or, in Chatwoot's Dashboard Apps, from the "appContext"
// message Chatwoot posts to the frame (asked for again with "chatwoot-dashboard-app:fetch-info").
// Messages are read only from the origins an admin allowed to frame the console.

const CHATWOOT_CHANNELS = { "Channel::Email": "email", "Channel::Sms": "sms", "Channel::TwilioSms": "sms", "Channel::Whatsapp": "sms",
  "Channel::Voice": "voice" };
const CHANNELS = ["email", "sms", "chat", "voice", "self_service"];

export function contextFromQuery() {
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

export async function openContext(context) {
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

export function askHelpdesk() {
  if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");  // a request with no data
}

export function listenToHelpdesk() {
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
