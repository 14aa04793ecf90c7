"""The OpenAPI 3.1 document of the REST API, served at ``/api/v1/openapi.json``.

Kept true by a test that validates real responses against it. Its parts: ``schemas``
(components), ``responses`` (what operations answer), ``paths`` (every operation).
"""

from __future__ import annotations

import functools
from functools import lru_cache
from typing import Any

from linkmesh_gateway.openapi.app_schemas import APP_SCHEMAS
from linkmesh_gateway.openapi.event_paths import EVENT_OPERATIONS, EVENT_PATHS
from linkmesh_gateway.openapi.paths import OPERATIONS, PATHS
from linkmesh_gateway.openapi.privacy_paths import PRIVACY_OPERATIONS, PRIVACY_PATHS
from linkmesh_gateway.openapi.responses import ALWAYS, WITH_BODY, failure
from linkmesh_gateway.openapi.schemas import SCHEMAS

__all__ = ["ALWAYS", "WITH_BODY", "document", "query_parameters"]

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
    {"name": "events", "description": "The vendors' change events (webhooks), signed by the vendor, no bearer token"},
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
            operation_id, tag = {**OPERATIONS, **EVENT_OPERATIONS, **PRIVACY_OPERATIONS}[(path, method)]
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
        "info": {
            "title": "linkmesh gateway",
            "version": "1.0.0",
            "description": "Links customer-support profiles to commerce systems. Errors: {error: {code, message, fields}}, or "
            "RFC 9457 problem details (application/problem+json) to a caller whose Accept asks for them.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": TAGS,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": {**SCHEMAS, **APP_SCHEMAS}},
        "paths": _complete({**PATHS, **EVENT_PATHS, **PRIVACY_PATHS}),
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
