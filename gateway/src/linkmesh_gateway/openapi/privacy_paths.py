"""The OpenAPI document's paths for a person's data on request: export and erase (admins)."""

from __future__ import annotations

from typing import Any

from linkmesh_gateway.openapi.kit import B, S, obj
from linkmesh_gateway.openapi.responses import PATH_ID, errors, op

COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
ERASURE = obj(
    {"customer_id": S, "erased_at": {"type": "string", "format": "date-time"}, "removed": COUNTS, "pseudonymised": COUNTS, "already": B},
    ["customer_id", "erased_at", "removed", "pseudonymised", "already"],
)

PRIVACY_PATHS: dict[str, Any] = {
    "/api/v1/customers/{customer_id}/export": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "get": op(
            "Everything linkmesh holds about a customer, as one JSON document (a download; the export is audited)",
            "admin",
            {
                "200": {
                    "description": "customer (the profile, its links and their pulled data), lookup_traces, audit, actions, "
                    "autolink_queue, customer_aliases, inbox: each collection's documents about them",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **errors(404),
            },
        ),
    },
    "/api/v1/customers/{customer_id}/erase": {
        "parameters": [{"name": "customer_id", **PATH_ID}],
        "post": op(
            "Erase a customer wherever linkmesh holds them: profile, links, traces, queue entries, aliases and change events "
            "removed; audit entries pseudonymised; action records keep order, amount and outcome. Safe to repeat: a customer "
            "erased already answers the same record with already: true",
            "admin",
            {"200": {"description": "What was removed and kept", "content": {"application/json": {"schema": ERASURE}}}, **errors(404)},
        ),
    },
}
PRIVACY_OPERATIONS = {
    ("/api/v1/customers/{customer_id}/export", "get"): ("exportCustomer", "customers"),
    ("/api/v1/customers/{customer_id}/erase", "post"): ("eraseCustomer", "customers"),
}
