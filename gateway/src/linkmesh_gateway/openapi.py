"""The OpenAPI 3.1 document of the REST API, served at ``/api/v1/openapi.json``.

Kept true by a test that validates real responses against it.
"""

from __future__ import annotations

import functools
from functools import lru_cache
from typing import Any

S: dict[str, Any] = {"type": "string"}
B: dict[str, Any] = {"type": "boolean"}
I: dict[str, Any] = {"type": "integer"}
TS: dict[str, Any] = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def arr(item: dict[str, Any], description: str = "") -> dict[str, Any]:
    out = {"type": "array", "items": item}
    if description:
        out["description"] = description
    return out


def obj(props: dict[str, Any], required: list[str] | None = None, *, closed: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    out["required"] = list(props) if required is None else required
    if closed:
        out["additionalProperties"] = False
    return out


def str_map() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": S}


APP_INPUT: dict[str, Any] = {
    "type": S, "name": {**S, "maxLength": 100}, "settings": str_map(), "secrets": {**str_map(), "writeOnly": True},
    "search_query_attributes": {**arr(ref("Attribute")), "minItems": 1}, "search_result_attributes": arr(ref("Attribute")),
    "auto_link_fields": arr({"enum": ["email", "phone"]}), "overwrite_existing_values": B, "actions_enabled": B, "active": B,
    "serving": {**obj({"enabled": B, "signing_key": {**S, "writeOnly": True}, "username": S, "password": {**S, "writeOnly": True}}, []),
                "description": "Serve this app as a Gladly-compatible lookup adaptor at serving.url: Gladly-Authorization signed with "
                               "signing_key (write-only, at least 16 characters), optional HTTP Basic. An empty signing_key or "
                               "password keeps the one set."},
}

API_KEY: dict[str, Any] = {
    "id": S, "name": S, "role": S, "prefix": S, "created_at": TS, "created_by": ref("Actor"), "expires_at": TS, "last_used_at": TS,
    "revoked_at": TS, "revoked_by": ref("Actor"), "acts_for_others": B, "rate_limit_per_minute": I}
API_KEY_REQUIRED = ["id", "name", "role", "prefix", "created_at", "acts_for_others", "rate_limit_per_minute"]

SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": obj({"code": S, "message": S, "fields": str_map()})}),
    "Problem": {**obj({"type": {**S, "description": "urn:linkmesh:problem:<code>"}, "title": S, "status": I, "detail": S, "instance": S,
                       "code": {**S, "description": "the same code as error.code of the envelope"},
                       "fields": {**str_map(), "description": "each invalid field and why"}}, closed=False),
                "description": "RFC 9457 problem details, answered instead of Error to a caller that sends "
                               "Accept: application/problem+json"},
    "Actor": obj({"kind": {"enum": ["user", "api_key", "bootstrap", "adaptor", "service"]}, "id": S, "name": S, "role": S, "on_behalf_of": S},
                 ["kind", "id", "name", "role"]),
    "AuthConfig": obj({"oidc": {"oneOf": [{"type": "null"}, obj({
        "issuer": S, "client_id": S, "scope": S, "extra_params": str_map(), "authorization_endpoint": S, "token_endpoint": S,
        "end_session_endpoint": S, "error": {**S, "description": "Set when the provider's discovery document could not be read"}},
        ["issuer", "client_id", "scope", "extra_params"])]}, "api_keys": B,
        "frame_ancestors": arr(S, "origins that may show the console in a frame (GATEWAY_FRAME_ANCESTORS); the framed console reads "
                                  "messages from these only")}),
    "ApiKeyInput": obj({"name": {**S, "maxLength": 100}, "role": {"enum": ["admin", "agent", "developer"]}, "expires_at": TS,
                        "acts_for_others": B, "rate_limit_per_minute": {"type": "integer", "minimum": 0}}, ["name", "role"]),
    "ApiKey": obj(API_KEY, API_KEY_REQUIRED),
    "CreatedApiKey": obj({**API_KEY, "secret": {**S, "description": "lmk_<id>_<secret>: shown once"}}, [*API_KEY_REQUIRED, "secret"]),
    "ApiKeyList": obj({"api_keys": arr(ref("ApiKey"))}),
    "AuditEntry": obj({"id": S, "at": TS, "actor": ref("Actor"), "action": S, "customer_id": S, "app_id": S, "order_id": S, "api_key_id": S,
                       "request_id": S, "outcome": S, "message": S, "details": str_map()}),
    "AuditPage": obj({"entries": arr(ref("AuditEntry")), "next_page_token": S}),
    "Attribute": obj({"attribute": S, "label": S}),
    "AttributeValue": obj({"attribute": S, "label": S, "value": S}),
    "Address": obj({k: S for k in ("line1", "line2", "city", "region", "postal_code", "country_code", "company")}),
    "Money": obj({"amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}, "currency": S}),
    "Phone": obj({"number": S, "type": S}),
    "Shipment": obj({"id": S, "method": S, "carrier": S, "tracking_number": S, "tracking_url": S, "shipped_at": TS},
                    ["id", "method", "carrier", "tracking_number", "tracking_url"]),
    "OrderLine": obj({"id": S, "name": S, "sku": S, "unit_price": ref("Money"), "quantity": I, "product_url": S},
                     ["id", "name", "sku", "quantity", "product_url"]),
    "Order": obj({
        "id": S, "number": S, "admin_url": S, "total": ref("Money"), "discount": ref("Money"), "created_at": TS,
        "status": S, "fulfilled": B, "shipments": arr(ref("Shipment")), "lines": arr(ref("OrderLine")),
        "partial": arr({"enum": ["shipments", "lines", "product_links"]},
                       "Parts of the order the connector could not read to their end in time: what is shown of them is partial."),
        "actions": arr(ref("RecordAction"), "Actions this order offers (a custom lookup adaptor's): open one's form with "
                                            "GET /api/v1/customers/{customer_id}/action-form"),
    }, ["id", "number", "admin_url", "status", "fulfilled", "shipments", "lines", "partial", "actions"]),
    "RecordAction": obj({"name": S, "form_url": S}),
    "Transaction": obj({"type": S, "title": S, "fields": arr(ref("CustomAttribute")), "created_at": TS, "actions": arr(ref("RecordAction"))},
                       ["type", "title", "fields", "actions"]),
    "FormChoice": obj({"label": S, "value": S}),
    "FormField": obj({"name": S, "label": S, "type": {"enum": ["string", "integer", "decimal", "boolean", "select", "lines", "note"]},
                      "options": arr(S), "required": B, "hint": S, "default_value": S, "choices": arr(ref("FormChoice")), "placeholder": S,
                      "min_value": {**S, "description": "least value of an integer or decimal (ASCII digits); empty: the default"},
                      "max_value": {**S, "description": "greatest value of an integer or decimal, or of each line's quantity"}}),
    "ActionForm": obj({"title": S, "submit_label": S, "close_label": S, "action_url": S, "fields": arr(ref("FormField"))}),
    "ReturnItem": obj({"name": S, "sku": S, "quantity": I, "reason": S}),
    "Return": obj({
        "id": S, "code": S, "status": S, "order_id": S, "created_at": TS, "items": arr(ref("ReturnItem")),
        "refund_total": ref("Money"), "exchange_total": ref("Money"), "store_credit": ref("Money"), "return_shipment": ref("Shipment"), "admin_url": S,
    }, ["id", "code", "status", "order_id", "items", "admin_url"]),
    "CustomAttribute": obj({"key": S, "label": S, "value": S, "url": S}),
    "Link": obj({"label": S, "url": S}),
    "ExternalCustomer": obj({
        "external_id": S, "name": S, "first_name": S, "last_name": S, "emails": arr(S), "phones": arr(ref("Phone")),
        "address": ref("Address"), "customer_since": TS, "admin_url": S, "custom_attributes": arr(ref("CustomAttribute")),
        "orders": arr(ref("Order")), "returns": arr(ref("Return")), "links": arr(ref("Link")),
        "partial": arr({"enum": ["orders", "returns"]},
                       "Lists the connector could not read to their end in time: what is shown of them is partial."),
        "actions": arr(ref("RecordAction"), "Actions this customer's record offers (a custom lookup adaptor's)"),
        "transactions": arr(ref("Transaction"), "Records that are neither orders nor returns (subscriptions, flights, stays...)"),
    }, ["external_id", "name", "first_name", "last_name", "emails", "phones", "admin_url", "custom_attributes", "orders", "returns", "links",
        "partial", "actions", "transactions"]),
    "Stale": obj({"code": S, "message": S, "since": TS}, ["code", "message"]),
    "LinkedApp": obj({
        "app_id": S, "app_name": S, "app_type": S, "external_customer_id": S, "linked_at": TS,
        "refreshed_at": {"oneOf": [TS, {"type": "null"}]}, "data": ref("ExternalCustomer"),
        "stale": {"oneOf": [ref("Stale"), {"type": "null"}]}, "actions_enabled": B,
    }, ["app_id", "app_name", "app_type", "external_customer_id", "refreshed_at", "stale", "actions_enabled"]),
    "Customer": obj({
        "id": S, "name": S, "emails": arr(S), "phones": arr({"type": "string", "pattern": r"^\+[1-9]\d{1,14}$"}),
        "address": {"oneOf": [ref("Address"), {"type": "null"}]}, "custom_attributes": str_map(),
        "links": arr(ref("LinkedApp")), "created_at": TS, "updated_at": TS,
        "last_contact_at": {"oneOf": [TS, {"type": "null"}], "description": "when the customer last contacted in (to the minute)"},
        "sources": {**str_map(), "description": "which app each pulled value came from: name, address, custom_attributes.<key> → app id"},
    }),
    "CustomerInput": {**obj({"name": {**S, "maxLength": 200}, "emails": arr(S), "phones": arr(S), "address": ref("Address"),
                             "custom_attributes": str_map()}, []), "minProperties": 1},
    "CustomerList": obj({"customers": arr(ref("Customer"))}),
    "CustomerDirectory": obj({
        "customers": arr(obj({"id": S, "name": S, "emails": arr(S), "phones": arr(S), "linked_apps": arr(S, "names of the linked apps"),
                              "last_contact_at": TS, "matched": {"enum": ["recent", "name", "email", "phone", "order"]}},
                             ["id", "name", "emails", "phones", "linked_apps", "matched"])),
        "next_page_token": {**S, "description": "empty on the last page"},
    }, ["customers", "next_page_token"]),
    "App": obj({
        "id": S, "type": S, "name": S, "settings": str_map(), "secrets_set": arr(S),
        "search_query_attributes": arr(ref("Attribute")), "search_result_attributes": arr(ref("Attribute")),
        "auto_link_fields": arr({"enum": ["email", "phone"]}), "overwrite_existing_values": B, "actions_enabled": B,
        "active": B, "created_at": TS, "updated_at": TS,
        "serving": obj({"enabled": B, "path": S, "url": S, "username": S, "secrets_set": arr(S)}),
    }),
    "AppCreate": obj(APP_INPUT, ["type", "name", "search_query_attributes"]),
    "AppUpdate": {**obj({k: v for k, v in APP_INPUT.items() if k != "type"}, []), "minProperties": 1},
    "AppList": obj({"apps": arr(ref("App"))}),
    "SettingSpec": obj({"name": S, "label": S, "required": B, "secret": B, "hint": S, "default_value": S,
                        "credentials_destination": {**B, "description": "The app's secrets are sent here: changing it needs them again"}}),
    "Connector": obj({
        "type": S, "available": B, "display_name": S, "search_fields": arr(S), "auto_link_fields": arr(S),
        "actions": arr({"type": "object"}), "settings": arr(ref("SettingSpec")), "result_attributes": arr(ref("Attribute")),
        "error": obj({"code": S, "message": S}),
    }, ["type", "available"]),
    "ConnectorList": obj({"connectors": arr(ref("Connector"))}),
    "SearchRequest": obj({"app_id": S, "email": S, "phone": S, "order_number": S}, ["app_id"]),
    "SearchResult": obj({"app_id": S, "app_name": S, "app_type": S, "external_customer_id": S, "attributes": arr(ref("AttributeValue"))}),
    "SearchFailure": obj({"app_id": S, "app_name": S, "app_type": S, "code": S, "message": S,
                          "retry_after_s": {"oneOf": [{"type": "number"}, {"type": "null"}]}}),
    "SkippedApp": obj({"app_id": S, "app_name": S, "app_type": S, "reason": S}),
    "SearchTarget": obj({"app_id": S, "app_name": S, "app_type": S, "search_fields": arr(S), "actions_enabled": B}),
    "SearchTargets": obj({"targets": arr(ref("SearchTarget")), "skipped": arr(ref("SkippedApp"))}),
    "SearchResponse": obj({"results": arr(ref("SearchResult")), "failures": arr(ref("SearchFailure")), "skipped": arr(ref("SkippedApp"))}),
    "LinkRequest": obj({"app_id": S, "external_customer_id": S}),
    "ActionRequest": obj({"app_id": S, "action": S, "order_id": S,
                          "params": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                          "form_url": {**S, "description": "an action a linked record offers (its RecordAction.form_url): the values "
                                                          "in params are checked against its form and posted to it; action may be left out"}},
                         ["app_id"]),
    "ActionResult": obj({"id": S, "app_id": S, "action": S, "order_id": S, "message": S, "result": str_map(), "replayed": B,
                         "customer": ref("Customer"),
                         "resolution": {"enum": ["", "resolved"], "description": "resolved: the first answer was lost (502 "
                                        "outcome_unknown) and the vendor's own record showed the action had taken effect"}}),
    "Health": obj({"status": S, "profile": S}, ["status"]),
    "AdaptorErrors": obj({"errors": arr(obj({"message": S, "attr": S, "detail": S}, []))}),
    "AdaptorForm": obj({
        "title": S, "submitButton": S, "closeButton": S, "actionUrl": S,
        "sections": arr(obj({"type": {"enum": ["input"]}, "label": S, "attr": S, "hint": S, "defaultValue": S,
                             "input": obj({"type": {"enum": ["text", "select", "checkbox"]}, "optional": B, "placeholder": S,
                                           "options": arr(obj({"text": S, "value": S}))}, ["type"])},
                            ["type", "label", "attr", "input"]))}),
    "ContactRequest": obj({"channel": {"enum": ["email", "sms", "chat", "voice", "self_service"]}, "email": S, "phone": S,
                           "name": {**S, "maxLength": 200}}, ["channel"]),
    "IdentifyRequest": obj({"email": S}),
    "StaleApp": obj({"app_id": S, "code": S, "message": S}),
    "ContactResult": obj({"customer_id": S, "created": B, "linked": arr(S), "refreshed": arr(S), "stale": arr(ref("StaleApp")),
                          "pending": {**arr(S), "description": "apps whose auto-link a rate limit deferred; completed in the background"},
                          "not_linked": arr(obj({"app_id": S, "app_name": S, "reason": S, "code": {
                              **S, "description": "gRPC code name when the search or lookup failed (worth a retry); empty for no unique match"}}),
                              "apps auto-link tried and did not link")}),
    "LookupTrace": obj({
        "id": S, "app_id": S, "customer_id": S, "kind": S, "request": {"type": "object"},
        "response": {"oneOf": [{"type": "object"}, {"type": "null"}]}, "code": S, "message": S, "latency_ms": {"type": "number"},
        "decision": S, "reason": S, "at": {"oneOf": [TS, {"type": "null"}]}, "dry_run": B,
    }),
    "LookupList": obj({"lookups": arr(ref("LookupTrace")), "circuit": ref("CircuitState"),
                       "next_page_token": {**S, "description": "empty on the last page"}}),
    "CircuitState": obj({"state": {"enum": ["closed", "open", "half_open"]}, "consecutive_failures": I, "last_error": S,
                         "retry_in_s": {"type": "number"}}),
    "DebugRequest": obj({"app_id": S, "email": S, "phone": S, "workflow": {"enum": ["autolink", "basic"]}}, ["app_id", "workflow"]),
    "DebugResult": obj({"steps": arr(ref("LookupTrace")), "would_link": B, "reason": S, "external_customer_id": S}),
}


def body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def ok(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


# What any authenticated operation can answer besides its own statuses: a query parameter it does
# not document (400, naming it), the caller's token or role (401, 403), a rate limit (429), a fault
# (500), the profile service down or slow (503, 504).
ALWAYS = (400, 401, 403, 429, 500, 503, 504)
# And an operation that reads a body: malformed JSON (400), too large (413), invalid fields (422).
WITH_BODY = (400, 413, 422)
WORDS = {
    400: "Bad request (a query parameter the operation does not take, or a body that is not a JSON object)", 401: "Missing or bad token", 403: "The token's role may not do this",
    404: "Not found", 409: "Conflict with the current state", 413: "The body is too large",
    422: "Invalid input; fields names every bad field",
    429: "The caller's rate limit or a vendor's; Retry-After says when", 500: "An internal error (the request id says which)",
    501: "Not implemented by the connector", 502: "A vendor refused the app's credentials, or the outcome of an action is unknown",
    503: "A dependency is unavailable", 504: "A dependency did not answer in time",
}


def failure(status: int) -> dict[str, Any]:
    """An error answer: the API's envelope, or problem details when the caller asks for them."""
    return {"description": WORDS[status], "content": {"application/json": {"schema": ref("Error")},
                                                      "application/problem+json": {"schema": ref("Problem")}}}


def errors(*statuses: int) -> dict[str, Any]:
    """The error statuses an operation answers beyond those every one does (``_complete``)."""
    return {str(s): failure(s) for s in sorted(set(statuses))}


PATH_ID = {"in": "path", "required": True, "schema": S}
UPSTREAM = (429, 502, 503, 504)


def op(summary: str, roles: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "description": f"Roles: {roles}.", "responses": responses, **extra}


PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {"200": ok("Health")}}},
    "/readyz": {"get": {"summary": "Readiness (the profile service answers)", "security": [],
                        "responses": {"200": ok("Health"), "503": ok("Health", "Not ready")}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}},
    "/api/v1/connectors": {"get": op("Connector types and what they can do", "admin, agent, developer", {"200": ok("ConnectorList"), **errors(503)})},
    "/api/v1/auth/config": {"get": {"summary": "How to sign in: the identity provider (authorization code with PKCE, public "
                                                "client) or null when people sign in with an API key", "security": [],
                                     "responses": {"200": ok("AuthConfig")}}},
    "/api/v1/me": {"get": op("The verified caller (who is signed in, with what role)", "admin, agent, developer", {"200": ok("Actor"), **errors(503)})},
    "/api/v1/api-keys": {
        "post": op("Create an API key: its secret is answered once, here, and stored only as a keyed hash", "admin",
                   {"201": ok("CreatedApiKey", "Created"), **errors(422, 503)}, requestBody=body("ApiKeyInput")),
        "get": op("List API keys (never their secrets)", "admin", {"200": ok("ApiKeyList"), **errors(422, 503)},
                  parameters=[{"name": "include_revoked", "in": "query", "schema": {"enum": ["true", "false"]}}]),
    },
    "/api/v1/api-keys/{key_id}": {
        "parameters": [{"name": "key_id", **PATH_ID}],
        "delete": op("Revoke an API key: refused at once on every gateway replica (a revoked key is answered as it is)", "admin",
                     {"200": ok("ApiKey"), **errors(404, 503)}),
    },
    "/api/v1/audit": {
        "get": op("The audit log: every write, its verified author and outcome, newest first", "admin",
                  {"200": ok("AuditPage"), **errors(422, 503)},
                  parameters=[{"name": n, "in": "query", "schema": S} for n in ("actor_id", "action", "customer_id", "app_id", "outcome", "page_token")]
                  + [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]),
    },
    "/api/v1/apps": {
        "post": op("Create an app", "admin", {"201": ok("App", "Created"), **errors(400, 422, *UPSTREAM)}, requestBody=body("AppCreate")),
        "get": op("List apps", "admin, developer", {"200": ok("AppList"), **errors(503)}),
    },
    "/api/v1/apps/{app_id}": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "get": op("Get an app", "admin, developer", {"200": ok("App"), **errors(404, 503)}),
        "patch": op("Update an app; settings and secrets merge by key", "admin",
                    {"200": ok("App"), **errors(400, 404, 422, *UPSTREAM)}, requestBody=body("AppUpdate")),
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
        "get": op("Recent lookups of an app (the lookup debugger)", "admin, developer", {"200": ok("LookupList"), **errors(404, 422, 503)},
                  parameters=[{"name": "customer_id", "in": "query", "schema": S},
                              {"name": "kind", "in": "query", "schema": S, "description": "search, fetch, autolink_search, action, ..."},
                              {"name": "outcome", "in": "query", "schema": {"enum": ["ok", "failed"]}},
                              {"name": "page_token", "in": "query", "schema": S},
                              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]),
    },
    "/api/v1/debugger/lookup": {
        "post": op("Dry-run a lookup: each step, and whether and why it would link", "admin, developer",
                   {"200": ok("DebugResult"), **errors(400, 404, 422, 503)}, requestBody=body("DebugRequest")),
    },
    "/api/v1/customers/{customer_id}/actions": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op("Run an order action (refund, cancel, discount code, start a return) at most once per Idempotency-Key", "agent",
                   {"200": ok("ActionResult"), **errors(400, 404, 409, 422, *UPSTREAM)}, requestBody=body("ActionRequest"),
                   parameters=[{"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 255}},
                               {"name": "X-Actor", "in": "header", "schema": S,
                                "description": "only from an API key trusted to act for others: the person it acts for "
                                               "(recorded as the key on behalf of them); refused (403) from any other caller"}]),
    },
    "/api/v1/customers/{customer_id}/action-form": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op("The form of an action a linked record offers (read from its system, never run)", "agent",
                  {"200": ok("ActionForm"), **errors(400, 404, 409, 422, *UPSTREAM)},
                  parameters=[{"name": "app_id", "in": "query", "required": True, "schema": S},
                              {"name": "form_url", "in": "query", "required": True, "schema": S}]),
    },
    "/gladly/v1/apps/{app_id}/lookup": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "post": {"summary": "The app served as a Gladly Lookup Adaptor (BASIC and DETAILED lookups)",
                 "description": "No bearer token: the request must carry Gladly-Authorization signed with the app's serving.signing_key "
                                "(HMAC-SHA256 over the method, path, query, signed headers and body bytes, Gladly-Time within 5 "
                                "minutes), and HTTP Basic when the app sets serving.username. Answers {results: [...]} as the "
                                "protocol says; errors are {errors: [{message}]}.",
                 "security": [],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": obj(
                     {"lookupLevel": {"enum": ["BASIC", "DETAILED"]}, "uniqueMatchRequired": B, "query": {"type": "object"}},
                     ["lookupLevel", "query"], closed=False)}}},
                 "responses": {
                     "200": {"description": "OK", "content": {"application/json": {"schema": obj({"results": arr({"type": "object"})})}}},
                     **{str(code): {"description": text, "content": {"application/json": {"schema": ref("AdaptorErrors")}}}
                        for code, text in ((400, "Malformed body or unknown lookupLevel"), (401, "Missing or bad signature or credentials"),
                                           (404, "No lookup adaptor is served for this app"), (503, "The system behind the app is unavailable"),
                                           (504, "Not answered within the protocol's budget"))}}},
    },
    "/gladly/v1/apps/{app_id}/actions/{action}": {
        "parameters": [{"name": "app_id", **PATH_ID}, {"name": "action", "in": "path", "required": True, "schema": S},
                       {"name": "customer", "in": "query", "required": True, "schema": S, "description": "the externalCustomerId"},
                       {"name": "order", "in": "query", "schema": S, "description": "the order, for an action on one order"}],
        "get": {"summary": "The form of an action a served DETAILED result offers (its formUrl), in the protocol's form shape",
                "description": "Signed like a lookup (GET, body hash of the empty body). Only when the app has actions_enabled.",
                "security": [],
                "responses": {
                    "200": {"description": "The form", "content": {"application/json": {"schema": ref("AdaptorForm")}}},
                    **{str(code): {"description": text, "content": {"application/json": {"schema": ref("AdaptorErrors")}}}
                       for code, text in ((400, "The URL names no customer"), (401, "Missing or bad signature or credentials"),
                                          (404, "No such action, or no lookup adaptor is served for this app"),
                                          (406, "Actions are turned off for the app, or it is inactive"))}}},
        "post": {"summary": "Run the action with the form's values (its actionUrl), once per Gladly-Correlation-Id",
                 "description": "Signed; the body is the values keyed by attr. Runs through the idempotent action runner with the "
                                "request's Gladly-Correlation-Id as idempotency key: the same id with the same values answers the "
                                "first outcome again. An unknown outcome (the vendor may have acted) answers 502 (503 while the "
                                "first attempt still runs), never 4xx.",
                 "security": [],
                 "parameters": [{"name": "Gladly-Correlation-Id", "in": "header", "required": True, "schema": S}],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                 "responses": {
                     "200": {"description": "Done", "content": {"application/json": {"schema": obj({"message": S, "detail": S}, ["message"])}}},
                     **{str(code): {"description": text, "content": {"application/json": {"schema": ref("AdaptorErrors")}}}
                        for code, text in ((400, "Values to correct (errors name their attr); nothing ran"),
                                           (401, "Missing or bad signature or credentials"), (404, "No such action"),
                                           (406, "Refused: the form closes with the message"), (429, "Rate limited; nothing was sent"),
                                           (502, "The outcome is unknown: the system behind the app may have acted"),
                                           (503, "The first attempt with this correlation id still runs, or linkmesh is unavailable"),
                                           (504, "Not answered within the protocol's budget: the outcome is unknown"))}}},
    },
    "/api/v1/contacts": {
        "post": op("A customer contacted in: find or create, auto-link, refresh", "agent",
                   {"200": ok("ContactResult"), **errors(400, 422, 503)}, requestBody=body("ContactRequest")),
    },
    "/api/v1/self-service/identify": {
        "post": op("A customer typed their email into a self-service form", "agent",
                   {"200": ok("ContactResult"), **errors(400, 422, 503)}, requestBody=body("IdentifyRequest")),
    },
    "/api/v1/customers": {
        "post": op("Create a customer", "agent", {"201": ok("Customer", "Created"), **errors(400, 409, 422, 503)}, requestBody=body("CustomerInput")),
        "get": op("Find customers by email or phone", "agent", {"200": ok("CustomerList"), **errors(422, 503)}, parameters=[
            {"name": "email", "in": "query", "schema": S}, {"name": "phone", "in": "query", "schema": S}]),
    },
    "/api/v1/customer-directory": {
        "get": op("The most recently contacted customers, or those a query finds by name, email, phone or a linked order number",
                  "agent", {"200": ok("CustomerDirectory"), **errors(422, 503)}, parameters=[
                      {"name": "query", "in": "query", "schema": {**S, "maxLength": 200},
                       "description": "empty: recent customers; a name (each word starts a word of the name), email, phone or order number"},
                      {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                      {"name": "page_token", "in": "query", "schema": S, "description": "next_page_token of the previous page"}]),
    },
    "/api/v1/customers/{customer_id}": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op("Get a customer profile with its links and linked data", "agent", {"200": ok("Customer"), **errors(404, 422, 503)}, parameters=[
            {"name": "refresh", "in": "query", "schema": {**S, "default": "all"},
             "description": "all: refresh every linked app that is due; none: as stored; an app id: that app only"}]),
        "patch": op("Update a customer", "agent", {"200": ok("Customer"), **errors(400, 404, 409, 422, 503)}, requestBody=body("CustomerInput")),
    },
    "/api/v1/customers/{customer_id}/search-targets": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op("The apps an agent may search for this customer (active, not linked to them): id, name, type and search fields, "
                  "never settings or secrets; with a query, the apps that cannot search by it are under skipped", "agent",
                  {"200": ok("SearchTargets"), **errors(404, 422, 503)},
                  parameters=[{"name": n, "in": "query", "schema": S} for n in ("email", "phone", "order_number")]),
    },
    "/api/v1/customers/{customer_id}/external-search": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op("Search one app, or every unlinked active app at once (app_id: all)", "agent",
                   {"200": ok("SearchResponse"), **errors(400, 404, 409, 422, 503)}, requestBody=body("SearchRequest")),
    },
    "/api/v1/customers/{customer_id}/links": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op("Link to an external customer (runs a DETAILED lookup)", "agent",
                   {"201": ok("Customer", "Linked"), **errors(400, 404, 409, 422, *UPSTREAM)}, requestBody=body("LinkRequest")),
        "delete": op("Unlink every external system (each never auto-links this customer again)", "agent",
                     {"200": ok("Customer"), **errors(400, 404, 409, 503)}),
    },
    "/api/v1/customers/{customer_id}/links/{app_id}": {
        "parameters": [{"name": "customer_id", **PATH_ID}, {"name": "app_id", **PATH_ID}],
        "delete": op("Unlink one external system (it never auto-links this customer again); the others stay", "agent",
                     {"200": ok("Customer"), **errors(400, 404, 409, 503)}),
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
TAGS = [
    {"name": "contacts", "description": "A customer contacted in: find or create, auto-link, refresh"},
    {"name": "customers", "description": "Customer profiles and the directory agents find them in"},
    {"name": "linking", "description": "Search the commerce systems, link and unlink by hand"},
    {"name": "actions", "description": "Order actions (refund, cancel, discount code, start a return), at most once per key"},
    {"name": "apps", "description": "The configured stores of each commerce system (admin)"},
    {"name": "connectors", "description": "What each installed connector can do"},
    {"name": "debugger", "description": "The lookup debugger (admin, developer)"},
    {"name": "api-keys", "description": "API keys (admin)"},
    {"name": "audit", "description": "The audit log (admin)"},
    {"name": "auth", "description": "Who is calling, how to sign in"},
    {"name": "lookup-adaptor", "description": "An app served as a Gladly Lookup Adaptor (signed requests, no bearer token)"},
    {"name": "health", "description": "Liveness and readiness"},
    {"name": "meta", "description": "This document"},
]
def _complete(paths: dict[str, Any]) -> dict[str, Any]:
    """Each operation with its operationId and tag, and every status it can answer."""
    out: dict[str, Any] = {}
    for path, item in paths.items():
        out[path] = dict(item)
        for method, operation in item.items():
            if method == "parameters":
                continue
            operation_id, tag = OPERATIONS[(path, method)]
            operation = {"operationId": operation_id, "tags": [tag], **operation}
            responses = dict(operation["responses"])
            if operation.get("security") != []:
                statuses = ALWAYS + (WITH_BODY if "requestBody" in operation else ())
                for status in statuses:
                    responses.setdefault(str(status), failure(status))
            operation["responses"] = dict(sorted(responses.items()))
            out[path][method] = operation
    return out


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "linkmesh gateway", "version": "1.0.0",
                 "description": "Links customer-support profiles to commerce systems. Errors: {error: {code, message, fields}}, or "
                                "RFC 9457 problem details (application/problem+json) to a caller whose Accept asks for them."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": TAGS,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
        "paths": _complete(PATHS),
    }


@functools.cache
def query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """(path template, method) → the query parameters the operation documents: every other one
    is refused (a misspelt filter, or ``?app_id=`` where the path names the app, must not be
    ignored silently)."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in document()["paths"].items():
        shared = [p for p in item.get("parameters", []) if p.get("in") == "query"]
        for method, operation in item.items():
            if method == "parameters":
                continue
            own = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            out[(path, method.upper())] = frozenset(p["name"] for p in shared + own)
    return out
