// A real OpenID Connect provider for the tests: panva's certified oidc-provider, configured
// from a JSON file (argv[2]) the test writes: issuer, port, signing keys (JWKS with private
// parts), clients, accounts with their groups, and the API audience its access tokens carry.
// Sign-in uses the package's development interactions (a login form that accepts any
// password, then a consent page): the protocol around it is the real one.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts || {};

function claimsOf(id) {
  const account = accounts[id] || {};
  return { sub: id, name: account.name, email: account.email, groups: account.groups || [] };
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: [config.cookie_key] },
  claims: { openid: ["sub"], profile: ["name"], email: ["email"], groups: ["groups"] },
  scopes: ["openid", "profile", "email", "groups", "offline_access"],
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsOf(id) }),
  // An access token carries who the person is and their groups (the gateway maps groups to roles).
  extraTokenClaims: async (ctx, token) => {
    if (!token.accountId) return undefined;
    const { name, email, groups } = claimsOf(token.accountId);
    return { name, email, groups };
  },
  ttl: { AccessToken: config.access_token_ttl || 300, IdToken: 300, Session: 3600, Grant: 3600, Interaction: 600 },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => config.audience,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (resource !== config.audience) throw new Error(`unknown resource ${resource}`);
        return {
          scope: "openid profile email groups",
          audience: config.audience,
          accessTokenTTL: config.access_token_ttl || 300,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: config.alg || "RS256" } },
        };
      },
    },
  },
});
provider.proxy = false;
// Errors go to the log with their cause, so a failing test says what the provider refused.
for (const event of ["authorization.error", "end_session.error", "grant.error", "server_error", "jwks.error"]) {
  provider.on(event, (ctx, error) => console.log(JSON.stringify({ event, error: String(error), detail: error.error_description,
    cause: error.cause ? String(error.cause) : undefined })));
}
const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "oidc_provider_ready", issuer: config.issuer }));
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
