// linkmesh web console: a thin client of the gateway's REST API (/api/v1), in its own tab (/) or in a
// helpdesk's sidebar (/sidebar). Everything shown comes from the API; text is always set with
// textContent. No framework, no build step: ES modules, one per screen, loaded from this one.

import { newApp, showApps } from "./apps.js";
import { fillAuditChoices, showAudit } from "./audit.js";
import { dryRun, showLog } from "./debugger.js";
import { contactFields, createCustomer, recordContact, showDirectory } from "./directory.js";
import { SIDEBAR, busy, guarded, state } from "./lib.js";
import { listenToHelpdesk } from "./sidebar.js";
import { setUpSignIn } from "./signin.js";

// ---- wiring ----------------------------------------------------------------

export function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.view === view);
    if (button.dataset.view === view) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
  }
  document.getElementById("finder").hidden = state.role !== "agent";  // an admin reads a customer an audit entry names
  if (view === "customers" && !SIDEBAR && state.role === "agent") guarded(() => showDirectory(state.directory.query));
  if (view === "apps" || view === "debugger" || view === "audit") guarded(showApps);
  if (view === "debugger") guarded(() => showLog(logFilters(), document.getElementById("log-result")));
  if (view === "audit") {
    const form = document.getElementById("audit-filter");
    guarded(async () => {
      await fillAuditChoices(form);
      await showAudit(form);
    });
  }
}

function logFilters() {
  const filter = document.getElementById("log-filter");
  return Object.fromEntries(["app_id", "kind", "outcome"].map((n) => [n, filter[n].value]));
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
  document.getElementById("log-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => showLog(logFilters(), document.getElementById("log-result")));
  });
  const audit = document.getElementById("audit-filter");
  audit.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => showAudit(audit)); });
}

main();
