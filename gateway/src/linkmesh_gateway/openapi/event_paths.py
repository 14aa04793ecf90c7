"""The OpenAPI document's paths for the vendors' change events (webhooks, signed by the vendor,
no bearer token) and for an open profile's changes (a stream of Server-Sent Events)."""

from __future__ import annotations

from typing import Any

from linkmesh_gateway.openapi.kit import B, S, obj
from linkmesh_gateway.openapi.responses import PATH_ID, errors

RECEIVED = obj({"received": B, "event_id": S, "duplicate": B})
REFUSED = obj({"error": obj({"code": S, "message": S}, ["code", "message"])})

EVENT_PATHS: dict[str, Any] = {
    "/webhooks/v1/apps/{app_id}": {
        "parameters": [{"name": "app_id", **PATH_ID}],
        "post": {
            "summary": "A vendor's change event (webhook) for an app",
            "description": "No bearer token: the app's connector checks the vendor's own signature over the exact body "
            "(Shopify: X-Shopify-Hmac-Sha256 under the app's client secret). A good delivery is kept in the inbox once "
            "(a retry or a duplicate answers duplicate: true) and applied afterwards; nothing is processed inline.",
            "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": {"description": "Kept (or kept already)", "content": {"application/json": {"schema": RECEIVED}}},
                **{
                    str(code): {"description": text, "content": {"application/json": {"schema": REFUSED}}}
                    for code, text in (
                        (400, "The body is not what the vendor sends"),
                        (401, "The signature does not hold: nothing was kept"),
                        (404, "No such app"),
                        (409, "The app is not set up to receive its vendor's events (no secret to check them)"),
                        (413, "The body is larger than a delivery"),
                        (503, "Not kept now (the database or the connector did not answer): the vendor sends it again"),
                    )
                },
            },
        },
    },
}
REVISION = obj({"id": S, "updated_at": {"type": ["string", "null"], "format": "date-time"}, "gone": B}, ["id", "updated_at", "gone"])
EVENT_PATHS["/api/v1/customers/{customer_id}/changes"] = {
    "parameters": [{"name": "customer_id", **PATH_ID}],
    "get": {
        "summary": "An open profile's changes, as Server-Sent Events (roles: agent, admin)",
        "description": "A text/event-stream of `revision` events, each `data` a JSON object: the first says how the profile "
        "stands now, then one each time anything of it is written (a vendor's change event applied, a refresh, an action, a "
        "contact). A console showing an older `updated_at` reads the profile again (`?refresh=none`: what was written is "
        "fresh). A comment line comes every 15 s; the stream ends after 30 min or when the profile is gone (`gone: true`), "
        "and is opened again. Send the bearer token in Authorization (read it with fetch, not EventSource).",
        "responses": {
            "200": {
                "description": "The stream; each event's data is a revision",
                "content": {"text/event-stream": {"schema": {"type": "string"}, "x-event-data": REVISION}},
            },
            **errors(404),
        },
    },
}
EVENT_OPERATIONS = {
    ("/webhooks/v1/apps/{app_id}", "post"): ("receiveEvent", "events"),
    ("/api/v1/customers/{customer_id}/changes", "get"): ("watchCustomer", "customers"),
}
