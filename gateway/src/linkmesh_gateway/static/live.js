// An open profile kept current: the gateway streams the profile's revisions (Server-Sent Events,
// read with fetch so the bearer token goes with it); a revision newer than the one shown is read
// again as stored and redrawn, what the agent opened and typed kept. Times shown as "how long
// ago" move on by themselves.

import { ago, el, state } from "./lib.js";

let watching = null;  // { id, controller }

export function stopWatching() {
  watching?.controller.abort();
  watching = null;
}

// Watches this profile (one at a time); onRevision(revision) hears each one.
export function watchProfile(id, onRevision) {
  if (watching?.id === id) return;
  stopWatching();
  watching = { id, controller: new AbortController() };
  live = null;
  follow(id, watching.controller.signal, onRevision);
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

let live = null;  // null: not known yet; true: the stream is open; false: reconnecting

function describe(badge) {
  badge.hidden = live === null;
  badge.className = live ? "live on" : "live off";
  badge.textContent = live ? "Live" : "Reconnecting…";
  badge.title = live ? "Changes to this profile appear as they happen" : "Changes will appear again once the connection is back";
  return badge;
}

function showLive(on) {
  live = on;
  for (const badge of document.querySelectorAll(".live")) describe(badge);
}

// Says whether the open profile is live (drawn with the customer's card, kept as it is redrawn).
export function liveBadge() {
  return describe(el("span", { class: "live" }));
}

async function follow(id, signal, onRevision) {
  let wait = 1000;
  while (!signal.aborted) {
    try {
      const response = await fetch(`/api/v1/customers/${encodeURIComponent(id)}/changes`, {
        headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" }, signal, cache: "no-store",
      });
      if (response.status === 404 || response.status === 401 || response.status === 403) return;  // gone, or signed out
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      showLive(true);
      wait = 1000;
      await readEvents(response.body, (data) => onRevision(data));
    } catch {
      if (signal.aborted) return;
    }
    if (signal.aborted) return;
    showLive(false);
    await pause(wait, signal);
    wait = Math.min(wait * 2, 30000);
  }
}

async function readEvents(body, handle) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n");
      if (data) await handle(JSON.parse(data));
    }
  }
}

// "Updated 3 min ago" that stays true: the words are worked out again every 20 s.
export function agoText(ts, before = "", after = "") {
  return el("time", { datetime: ts || "", "data-ago": "", "data-before": before, "data-after": after, title: ts ? new Date(ts).toLocaleString() : "" },
    `${before}${ago(ts)}${after}`);
}

setInterval(() => {
  for (const t of document.querySelectorAll("time[data-ago]")) {
    const words = `${t.dataset.before}${ago(t.getAttribute("datetime"))}${t.dataset.after}`;
    if (t.textContent !== words) t.textContent = words;
  }
}, 20000);
