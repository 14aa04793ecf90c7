"""The answers an operation documents: bodies, success, and the error statuses every operation or one shares."""

from __future__ import annotations

from typing import Any

from linkmesh_gateway.openapi.kit import S, ref


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
    400: "Bad request (a query parameter the operation does not take, or a body that is not a JSON object)",
    401: "Missing or bad token",
    403: "The token's role may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "The body is too large",
    422: "Invalid input; fields names every bad field",
    429: "The caller's rate limit or a vendor's; Retry-After says when",
    500: "An internal error (the request id says which)",
    501: "Not implemented by the connector",
    502: "A vendor refused the app's credentials, or the outcome of an action is unknown",
    503: "A dependency is unavailable",
    504: "A dependency did not answer in time",
}


def failure(status: int) -> dict[str, Any]:
    """An error answer: the API's envelope, or problem details when the caller asks for them."""
    return {
        "description": WORDS[status],
        "content": {"application/json": {"schema": ref("Error")}, "application/problem+json": {"schema": ref("Problem")}},
    }


def errors(*statuses: int) -> dict[str, Any]:
    """The error statuses an operation answers beyond those every one does (``_complete``)."""
    return {str(s): failure(s) for s in sorted(set(statuses))}


PATH_ID = {"in": "path", "required": True, "schema": S}
UPSTREAM = (429, 502, 503, 504)


def op(summary: str, roles: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "description": f"Roles: {roles}.", "responses": responses, **extra}
