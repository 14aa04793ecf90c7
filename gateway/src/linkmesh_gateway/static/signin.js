// Signing in: OpenID Connect (authorization code with PKCE) or an API key; who is signed in.

import { show } from "./console.js";
import { SIDEBAR, api, connectors, el, fill, guarded, notice, state, store } from "./lib.js";
import { askHelpdesk, contextFromQuery, openContext } from "./sidebar.js";

// ---- sign-in -----------------------------------------------------------------
// With an identity provider: the authorization code flow with PKCE from this page (a public
// client: no secret here), the access token kept in this tab's sessionStorage only. In the
// sidebar the provider's pages open in a window of their own (providers refuse to be framed),
// which hands the token back to the frame and closes. Without a provider (make run): an API
// key. Either way the gateway says who is signed in (/api/v1/me).

export const KEYS = { token: "linkmesh.token", idToken: "linkmesh.id_token", pending: "linkmesh.sign_in" };

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return `${location.origin}/`;
}

async function startSignIn(oidc, popup = false) {
  const verifier = randomText();
  const pending = { verifier, state: randomText(), redirect: redirectUri(), popup };
  store.setItem(KEYS.pending, JSON.stringify(pending));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    ...oidc.extra_params, response_type: "code", client_id: oidc.client_id, redirect_uri: pending.redirect, scope: oidc.scope,
    state: pending.state, nonce: randomText(), code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(`${oidc.authorization_endpoint}?${params}`);
}

// Back from the provider with ?code= (or ?error=): exchange the code, once, and clean the URL.
async function finishSignIn(oidc) {
  const answer = new URLSearchParams(location.search);
  if (!answer.has("code") && !answer.has("error")) return false;
  const pending = JSON.parse(store.getItem(KEYS.pending) || "null");
  store.removeItem(KEYS.pending);
  history.replaceState(null, "", location.pathname);
  if (answer.has("error")) throw new Error(`Sign-in failed: ${answer.get("error_description") || answer.get("error")}`);
  if (!oidc || !pending || pending.state !== answer.get("state")) throw new Error("Sign-in failed: the answer does not match a sign-in this tab started; sign in again");
  if (answer.has("iss") && answer.get("iss") !== oidc.issuer) throw new Error(`Sign-in failed: the answer came from ${answer.get("iss")}, not ${oidc.issuer}`);
  const response = await fetch(oidc.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: answer.get("code"), redirect_uri: pending.redirect,
      client_id: oidc.client_id, code_verifier: pending.verifier }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.access_token) throw new Error(`Sign-in failed: ${tokens.error_description || tokens.error || `HTTP ${response.status}`}`);
  if (pending.popup && window.opener) {  // opened by the sidebar: the token goes back to it, on this origin only
    window.opener.postMessage({ type: "linkmesh:signed-in", token: tokens.access_token, idToken: tokens.id_token || "" }, location.origin);
    window.close();
    return false;
  }
  state.token = tokens.access_token;
  store.setItem(KEYS.token, state.token);
  store.setItem(KEYS.idToken, tokens.id_token || "");
  return true;
}

export async function showSignedIn() {
  const me = await api("GET", "/api/v1/me");
  state.role = me.role;
  const all = await connectors();
  document.getElementById("role").textContent = SIDEBAR ? `${me.name} (${me.role})`
    : `signed in as ${me.name} (${me.role}) · ${Object.keys(all).length} connectors`;
  for (const id of ["sso", "token", "key-sign-in"]) document.getElementById(id).hidden = true;
  document.getElementById("signout").hidden = false;
  // Only what this role may use: no tab that would answer 403.
  for (const node of document.querySelectorAll("[data-roles]")) node.hidden = !node.dataset.roles.split(" ").includes(me.role);
  document.querySelector("nav").hidden = false;
  const first = [...document.querySelectorAll("nav button")].find((b) => !b.hidden);
  if (SIDEBAR && me.role !== "agent") {
    document.getElementById("welcome").hidden = false;
    fill(document.getElementById("welcome"), el("p", {}, "The sidebar is for agents: open the console in its own tab for apps and the debugger."));
    return;
  }
  if (first) show(first.dataset.view);
  if (SIDEBAR) {
    const context = state.pendingContext || contextFromQuery();
    state.pendingContext = null;
    if (context) {
      state.lastContext = "";
      await openContext(context);
    }
    askHelpdesk();  // the conversation open now (the agent may have moved on while signing in)
  }
}

function signOut(oidc) {
  const idToken = store.getItem(KEYS.idToken);
  for (const key of Object.values(KEYS)) store.removeItem(key);
  Object.assign(state, { token: "", role: "", connectors: null, customer: null, searchTargets: null });
  if (oidc && oidc.end_session_endpoint && idToken && !SIDEBAR) {  // end the provider's session too
    const params = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: redirectUri(), client_id: oidc.client_id });
    location.assign(`${oidc.end_session_endpoint}?${params}`);
    return;
  }
  location.replace(`${location.origin}${location.pathname}${SIDEBAR ? location.search : ""}`);
}

export async function setUpSignIn() {
  const config = await fetch("/api/v1/auth/config").then((r) => (r.ok ? r.json() : { oidc: null })).catch(() => ({ oidc: null }));
  state.frameOrigins = config.frame_ancestors || [];
  const oidc = config.oidc && config.oidc.authorization_endpoint ? config.oidc : null;
  const sso = document.getElementById("sso");
  sso.hidden = !oidc;
  if (config.oidc && config.oidc.error) notice(`Company sign-in is unavailable (${config.oidc.error}); sign in with an API key.`, true);
  sso.addEventListener("click", () => guarded(async () => {
    if (SIDEBAR) window.open(`${location.origin}/?signin=popup`, "linkmesh-sign-in", "popup,width=520,height=680");
    else await startSignIn(oidc);
  }));
  document.getElementById("signout").addEventListener("click", () => signOut(oidc));
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token").value.trim();
    state.connectors = null;
    store.setItem(KEYS.token, state.token);
    store.removeItem(KEYS.idToken);
    guarded(showSignedIn);
  });
  if (oidc && new URLSearchParams(location.search).get("signin") === "popup") {  // the sidebar's sign-in window
    await guarded(() => startSignIn(oidc, true));
    return;
  }
  await guarded(async () => {
    try {
      if ((await finishSignIn(oidc)) || state.token) await showSignedIn();
    } catch (error) {
      if (error.status === 401) {  // a token kept from before that no longer holds: sign in again
        store.removeItem(KEYS.token);
        state.token = "";
      }
      throw error;
    }
  });
}
