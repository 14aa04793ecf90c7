"""Every path and operation of the REST API, with its operationId and tag."""

from __future__ import annotations

from typing import Any

from linkmesh_gateway.openapi.kit import B, S, arr, obj, ref
from linkmesh_gateway.openapi.responses import PATH_ID, UPSTREAM, body, errors, ok, op

LOOKUP_FILTERS: list[dict[str, Any]] = [
    {"name": "customer_id", "in": "query", "schema": S},
    {"name": "kind", "in": "query", "schema": S, "description": "search, fetch, autolink_search, action, ..."},
    {"name": "outcome", "in": "query", "schema": {"enum": ["ok", "failed"]}},
    {"name": "page_token", "in": "query", "schema": S},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
]

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {"200": ok("Health")}}},
    "/readyz": {
        "get": {
            "summary": "Readiness (the profile service answers)",
            "security": [],
            "responses": {"200": ok("Health"), "503": ok("Health", "Not ready")},
        }
    },
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}},
    "/api/v1/connectors": {
        "get": op("Connector types and what they can do", "admin, agent, developer", {"200": ok("ConnectorList"), **errors(503)})
    },
    "/api/v1/auth/config": {
        "get": {
            "summary": "How to sign in: the identity provider (authorization code with PKCE, public "
            "client) or null when people sign in with an API key",
            "security": [],
            "responses": {"200": ok("AuthConfig")},
        }
    },
    "/api/v1/me": {
        "get": op("The verified caller (who is signed in, with what role)", "admin, agent, developer", {"200": ok("Actor"), **errors(503)})
    },
    "/api/v1/api-keys": {
        "post": op(
            "Create an API key: its secret is answered once, here, and stored only as a keyed hash",
            "admin",
            {"201": ok("CreatedApiKey", "Created"), **errors(422, 503)},
            requestBody=body("ApiKeyInput"),
        ),
        "get": op(
            "List API keys (never their secrets)",
            "admin",
            {"200": ok("ApiKeyList"), **errors(422, 503)},
            parameters=[{"name": "include_revoked", "in": "query", "schema": {"enum": ["true", "false"]}}],
        ),
    },
    "/api/v1/api-keys/{key_id}": {
        "parameters": [{"name": "key_id", **PATH_ID}],
        "delete": op(
            "Revoke an API key: refused at once on every gateway replica (a revoked key is answered as it is)",
            "admin",
            {"200": ok("ApiKey"), **errors(404, 503)},
        ),
    },
    "/api/v1/audit": {
        "get": op(
            "The audit log: every write, its verified author and outcome, newest first",
            "admin",
            {"200": ok("AuditPage"), **errors(422, 503)},
            parameters=[
                {"name": n, "in": "query", "schema": S} for n in ("actor_id", "action", "customer_id", "app_id", "outcome", "page_token")
            ]
            + [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
        ),
    },
    "/api/v1/apps": {
        "post": op("Create an app", "admin", {"201": ok("App", "Created"), **errors(400, 422, *UPSTREAM)}, requestBody=body("AppCreate")),
        "get": op("List apps", "admin, developer", {"200": ok("AppList"), **errors(503)}),
    },
    "/api/v1/apps/{app_id}": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "get": op("Get an app", "admin, developer", {"200": ok("App"), **errors(404, 503)}),
        "patch": op(
            "Update an app; settings and secrets merge by key",
            "admin",
            {"200": ok("App"), **errors(400, 404, 422, *UPSTREAM)},
            requestBody=body("AppUpdate"),
        ),
        "delete": op("Delete an app and its links", "admin", {"204": {"description": "Deleted"}, **errors(404, 503)}),
    },
    "/api/v1/apps/{app_id}/activate": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "post": op("Reactivate an app (its settings are validated again)", "admin", {"200": ok("App"), **errors(404, 422, *UPSTREAM)}),
    },
    "/api/v1/apps/{app_id}/deactivate": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "post": op("Deactivate an app: it takes part in nothing; its links stay", "admin", {"200": ok("App"), **errors(404, 503)}),
    },
    "/api/v1/apps/{app_id}/lookups": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "get": op(
            "Recent lookups of an app (the lookup debugger), with its health as this replica sees it",
            "admin, developer",
            {"200": ok("LookupList"), **errors(404, 422, 503)},
            parameters=LOOKUP_FILTERS,
        ),
    },
    "/api/v1/lookups": {
        "get": op(
            "Recent lookups of every app, or of one (app_id), newest first",
            "admin, developer",
            {"200": ok("LookupList"), **errors(404, 422, 503)},
            parameters=[{"name": "app_id", "in": "query", "schema": S, "description": "one app's only"}, *LOOKUP_FILTERS],
        ),
    },
    "/api/v1/debugger/lookup": {
        "post": op(
            "Dry-run a lookup: each step, and whether and why it would link",
            "admin, developer",
            {"200": ok("DebugResult"), **errors(400, 404, 422, 503)},
            requestBody=body("DebugRequest"),
        ),
    },
    "/api/v1/customers/{customer_id}/actions": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op(
            "Run an order action (refund, cancel, discount code, start a return) at most once per Idempotency-Key",
            "agent",
            {"200": ok("ActionResult"), **errors(400, 404, 409, 422, *UPSTREAM)},
            requestBody=body("ActionRequest"),
            parameters=[
                {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 255}},
                {
                    "name": "X-Actor",
                    "in": "header",
                    "schema": S,
                    "description": "only from an API key trusted to act for others: the person it acts for "
                    "(recorded as the key on behalf of them); refused (403) from any other caller",
                },
            ],
        ),
    },
    "/api/v1/customers/{customer_id}/action-form": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op(
            "The form of an action a linked record offers (read from its system, never run)",
            "agent",
            {"200": ok("ActionForm"), **errors(400, 404, 409, 422, *UPSTREAM)},
            parameters=[
                {"name": "app_id", "in": "query", "required": True, "schema": S},
                {"name": "form_url", "in": "query", "required": True, "schema": S},
            ],
        ),
    },
    "/gladly/v1/apps/{app_id}/lookup": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "post": {
            "summary": "The app served as a Gladly Lookup Adaptor (BASIC and DETAILED lookups)",
            "description": "No bearer token: the request must carry Gladly-Authorization signed with the app's serving.signing_key "
            "(HMAC-SHA256 over the method, path, query, signed headers and body bytes, Gladly-Time within 5 "
            "minutes), and HTTP Basic when the app sets serving.username. Answers {results: [...]} as the "
            "protocol says; errors are {errors: [{message}]}.",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": obj(
                            {"lookupLevel": {"enum": ["BASIC", "DETAILED"]}, "uniqueMatchRequired": B, "query": {"type": "object"}},
                            ["lookupLevel", "query"],
                            closed=False,
                        )
                    }
                },
            },
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": obj({"results": arr({"type": "object"})})}}},
                **{
                    str(code): {"description": text, "content": {"application/json": {"schema": ref("AdaptorErrors")}}}
                    for code, text in (
                        (400, "Malformed body or unknown lookupLevel"),
                        (401, "Missing or bad signature or credentials"),
                        (404, "No lookup adaptor is served for this app"),
                        (503, "The system behind the app is unavailable"),
                        (504, "Not answered within the protocol's budget"),
                    )
                },
            },
        },
    },
    "/gladly/v1/apps/{app_id}/actions/{action}": {
        "parameters": [
            {"name": "app_id", **PATH_ID},
            {"name": "action", "in": "path", "required": True, "schema": S},
            {"name": "customer", "in": "query", "required": True, "schema": S, "description": "the externalCustomerId"},
            {"name": "order", "in": "query", "schema": S, "description": "the order, for an action on one order"},
        ],
        "get": {
            "summary": "The form of an action a served DETAILED result offers (its formUrl), in the protocol's form shape",
            "description": "Signed like a lookup (GET, body hash of the empty body). Only when the app has actions_enabled.",
            "security": [],
            "responses": {
                "200": {"description": "The form", "content": {"application/json": {"schema": ref("AdaptorForm")}}},
                **{
                    str(code): {"description": text, "content": {"application/json": {"schema": ref("AdaptorErrors")}}}
                    for code, text in (
                        (400, "The URL names no customer"),
                        (401, "Missing or bad signature or credentials"),
                        (404, "No such action, or no lookup adaptor is served for this app"),
                        (406, "Actions are turned off for the app, or it is inactive"),
                    )
                },
            },
        },
        "post": {
            "summary": "Run the action with the form's values (its actionUrl), once per Gladly-Correlation-Id",
            "description": "Signed; the body is the values keyed by attr. Runs through the idempotent action runner with the "
            "request's Gladly-Correlation-Id as idempotency key: the same id with the same values answers the "
            "first outcome again. An unknown outcome (the vendor may have acted) answers 502 (503 while the "
            "first attempt still runs), never 4xx.",
            "security": [],
            "parameters": [{"name": "Gladly-Correlation-Id", "in": "header", "required": True, "schema": S}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": {"description": "Done", "content": {"application/json": {"schema": obj({"message": S, "detail": S}, ["message"])}}},
                **{
                    str(code): {"description": text, "content": {"application/json": {"schema": ref("AdaptorErrors")}}}
                    for code, text in (
                        (400, "Values to correct (errors name their attr); nothing ran"),
                        (401, "Missing or bad signature or credentials"),
                        (404, "No such action"),
                        (406, "Refused: the form closes with the message"),
                        (429, "Rate limited; nothing was sent"),
                        (502, "The outcome is unknown: the system behind the app may have acted"),
                        (503, "The first attempt with this correlation id still runs, or linkmesh is unavailable"),
                        (504, "Not answered within the protocol's budget: the outcome is unknown"),
                    )
                },
            },
        },
    },
    "/api/v1/contacts": {
        "post": op(
            "A customer contacted in: find or create, auto-link, refresh",
            "agent",
            {"200": ok("ContactResult"), **errors(400, 422, 503)},
            requestBody=body("ContactRequest"),
        ),
    },
    "/api/v1/self-service/identify": {
        "post": op(
            "A customer typed their email into a self-service form",
            "agent",
            {"200": ok("ContactResult"), **errors(400, 422, 503)},
            requestBody=body("IdentifyRequest"),
        ),
    },
    "/api/v1/customers": {
        "post": op(
            "Create a customer",
            "agent",
            {"201": ok("Customer", "Created"), **errors(400, 409, 422, 503)},
            requestBody=body("CustomerInput"),
        ),
        "get": op(
            "Find customers by email or phone",
            "agent",
            {"200": ok("CustomerList"), **errors(422, 503)},
            parameters=[{"name": "email", "in": "query", "schema": S}, {"name": "phone", "in": "query", "schema": S}],
        ),
    },
    "/api/v1/customer-directory": {
        "get": op(
            "The most recently contacted customers, or those a query finds by name, email, phone or a linked order number",
            "agent",
            {"200": ok("CustomerDirectory"), **errors(422, 503)},
            parameters=[
                {
                    "name": "query",
                    "in": "query",
                    "schema": {**S, "maxLength": 200},
                    "description": "empty: recent customers; a name (each word starts a word of the name), email, phone or order number",
                },
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                {"name": "page_token", "in": "query", "schema": S, "description": "next_page_token of the previous page"},
            ],
        ),
    },
    "/api/v1/customers/{customer_id}": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op(
            "Get a customer profile with its links and linked data (admins read it from the audit log)",
            "agent, admin",
            {"200": ok("Customer"), **errors(404, 422, 503)},
            parameters=[
                {
                    "name": "refresh",
                    "in": "query",
                    "schema": {**S, "default": "all"},
                    "description": "all: refresh every linked app that is due; none: as stored; an app id: that app only",
                }
            ],
        ),
        "patch": op(
            "Update a customer", "agent", {"200": ok("Customer"), **errors(400, 404, 409, 422, 503)}, requestBody=body("CustomerInput")
        ),
    },
    "/api/v1/customers/{customer_id}/search-targets": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op(
            "The apps an agent may search for this customer (active, not linked to them): id, name, type and search fields, "
            "never settings or secrets; with a query, the apps that cannot search by it are under skipped",
            "agent",
            {"200": ok("SearchTargets"), **errors(404, 422, 503)},
            parameters=[{"name": n, "in": "query", "schema": S} for n in ("email", "phone", "order_number")],
        ),
    },
    "/api/v1/customers/{customer_id}/external-search": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op(
            "Search one app, or every unlinked active app at once (app_id: all)",
            "agent",
            {"200": ok("SearchResponse"), **errors(400, 404, 409, 422, 503)},
            requestBody=body("SearchRequest"),
        ),
    },
    "/api/v1/customers/{customer_id}/links": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op(
            "Link to an external customer (runs a DETAILED lookup)",
            "agent",
            {"201": ok("Customer", "Linked"), **errors(400, 404, 409, 422, *UPSTREAM)},
            requestBody=body("LinkRequest"),
        ),
        "delete": op(
            "Unlink every external system (each never auto-links this customer again)",
            "agent",
            {"200": ok("Customer"), **errors(400, 404, 409, 503)},
        ),
    },
    "/api/v1/customers/{customer_id}/links/{app_id}": {
        "parameters": [{"name": "customer_id", **PATH_ID}, {"name": "app_id", **PATH_ID}],
        "delete": op(
            "Unlink one external system (it never auto-links this customer again); the others stay",
            "agent",
            {"200": ok("Customer"), **errors(400, 404, 409, 503)},
        ),
    },
}


# Every operation's operationId (what a generated client names its function) and tag.
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("/healthz", "get"): ("getLiveness", "health"),
    ("/readyz", "get"): ("getReadiness", "health"),
    ("/api/v1/openapi.json", "get"): ("getOpenApiDocument", "meta"),
    ("/api/v1/connectors", "get"): ("listConnectors", "connectors"),
    ("/api/v1/auth/config", "get"): ("getAuthConfig", "auth"),
    ("/api/v1/me", "get"): ("getMe", "auth"),
    ("/api/v1/api-keys", "post"): ("createApiKey", "api-keys"),
    ("/api/v1/api-keys", "get"): ("listApiKeys", "api-keys"),
    ("/api/v1/api-keys/{key_id}", "delete"): ("revokeApiKey", "api-keys"),
    ("/api/v1/audit", "get"): ("listAuditEvents", "audit"),
    ("/api/v1/apps", "post"): ("createApp", "apps"),
    ("/api/v1/apps", "get"): ("listApps", "apps"),
    ("/api/v1/apps/{app_id}", "get"): ("getApp", "apps"),
    ("/api/v1/apps/{app_id}", "patch"): ("updateApp", "apps"),
    ("/api/v1/apps/{app_id}", "delete"): ("deleteApp", "apps"),
    ("/api/v1/apps/{app_id}/activate", "post"): ("activateApp", "apps"),
    ("/api/v1/apps/{app_id}/deactivate", "post"): ("deactivateApp", "apps"),
    ("/api/v1/apps/{app_id}/lookups", "get"): ("listAppLookups", "debugger"),
    ("/api/v1/lookups", "get"): ("listLookups", "debugger"),
    ("/api/v1/debugger/lookup", "post"): ("dryRunLookup", "debugger"),
    ("/api/v1/customers/{customer_id}/actions", "post"): ("runOrderAction", "actions"),
    ("/api/v1/customers/{customer_id}/action-form", "get"): ("getActionForm", "actions"),
    ("/gladly/v1/apps/{app_id}/lookup", "post"): ("servedLookup", "lookup-adaptor"),
    ("/gladly/v1/apps/{app_id}/actions/{action}", "get"): ("getServedActionForm", "lookup-adaptor"),
    ("/gladly/v1/apps/{app_id}/actions/{action}", "post"): ("runServedAction", "lookup-adaptor"),
    ("/api/v1/contacts", "post"): ("recordContact", "contacts"),
    ("/api/v1/self-service/identify", "post"): ("identifySelfService", "contacts"),
    ("/api/v1/customers", "post"): ("createCustomer", "customers"),
    ("/api/v1/customers", "get"): ("findCustomers", "customers"),
    ("/api/v1/customer-directory", "get"): ("listCustomerDirectory", "customers"),
    ("/api/v1/customers/{customer_id}", "get"): ("getCustomer", "customers"),
    ("/api/v1/customers/{customer_id}", "patch"): ("updateCustomer", "customers"),
    ("/api/v1/customers/{customer_id}/search-targets", "get"): ("listSearchTargets", "linking"),
    ("/api/v1/customers/{customer_id}/external-search", "post"): ("searchExternal", "linking"),
    ("/api/v1/customers/{customer_id}/links", "post"): ("linkCustomer", "linking"),
    ("/api/v1/customers/{customer_id}/links", "delete"): ("unlinkCustomer", "linking"),
    ("/api/v1/customers/{customer_id}/links/{app_id}", "delete"): ("unlinkCustomerApp", "linking"),
}
