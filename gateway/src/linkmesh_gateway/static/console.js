// linkmesh web console: a thin client of the gateway's REST API (/api/v1), in its own tab (/) or in a
// helpdesk's sidebar (/sidebar). Everything shown comes from the API; text is always set with
// textContent. No framework, no build step: ES modules, one per screen, loaded from this one.

import { newApp, showApps } from "./apps.js";
import { dryRun, showAudit, showLog } from "./debugger.js";
import { contactFields, createCustomer, recordContact, showDirectory } from "./directory.js";
import { SIDEBAR, api, busy, guarded, state } from "./lib.js";
import { listenToHelpdesk } from "./sidebar.js";
import { setUpSignIn } from "./signin.js";

// ---- wiring ----------------------------------------------------------------

export function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.view === view);
    if (button.dataset.view === view) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
  }
  if (view === "customers" && !SIDEBAR) guarded(() => showDirectory(state.directory.query));
  if (view === "apps" || view === "debugger") guarded(showApps);
  if (view === "debugger" && state.role === "admin") guarded(() => showAudit(document.getElementById("audit")));
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
  const filter = document.getElementById("log-filter");
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const filters = Object.fromEntries(["app_id", "customer_id", "kind", "outcome"].map((n) => [n, filter[n].value.trim()]));
    guarded(() => showLog(filters, document.getElementById("log-result")));
  });
  const audit = document.getElementById("audit");
  audit.addEventListener("submit", (event) => { event.preventDefault(); guarded(() => showAudit(audit)); });
}

main();
