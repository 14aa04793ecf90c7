"""An aiohttp server that is a custom Lookup Adaptor, written from
``docs/lookup-adaptor-protocol.md``:

- ``POST /lookup``: ``{"lookupLevel": "BASIC" | "DETAILED", "uniqueMatchRequired", "query"}``.
  BASIC matches on ``emails``/``email``, ``phones``/``phone`` (digits compared, any spelling),
  ``externalCustomerId`` (string or array values both), answering candidates without
  transactions; DETAILED answers the member named by ``externalCustomerId`` with address,
  custom attributes, transactions and actions. No match is ``{"results": []}``.
- ``GET /actions/<name>?...``: the action's form; ``POST /actions/<name>/run?...``: runs it
  (200 ``{"message"}``; 400 ``{"errors": [{"attr", "detail"}]}`` keeps the form open; 406
  closes it).
- Every request must carry a valid ``Gladly-Authorization`` (401 otherwise) and, when the
  adaptor is created with credentials, HTTP Basic auth (401). An unknown ``lookupLevel``
  answers 500, as adaptors in the wild do.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from aiohttp import web

from linkmesh_core.gladly_signing import SignatureError, verify
from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware
from linkmesh_sandboxes.lookup_adaptor.data import PASSWORD, SIGNING_KEY, USERNAME, Club

CLUB = web.AppKey("adaptor_club", Club)
KEY = web.AppKey("adaptor_key", str)
BASIC_AUTH = web.AppKey("adaptor_basic", str)


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response({"errors": [{"message": message}]}, status=status)


@web.middleware
async def signature_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/__sandbox"):
        return await handler(request)
    expected_basic = request.app[BASIC_AUTH]
    if expected_basic and request.headers.get("Authorization", "") != expected_basic:
        return error_response(request, 401, "HTTP Basic credentials are missing or wrong")
    body = await request.read()
    try:
        verify([request.app[KEY]], request.method, request.path, request.query_string, request.headers, body)
    except SignatureError as exc:
        return error_response(request, 401, f"bad request signature: {exc}")
    return await handler(request)


def _values(query: dict[str, Any], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        value = query.get(name)
        if isinstance(value, list):
            out.extend(str(v) for v in value if v not in (None, ""))
        elif value not in (None, ""):
            out.append(str(value))
    return out


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[-10:]


def _summary(member: dict[str, Any]) -> dict[str, Any]:
    return {k: member[k] for k in ("externalCustomerId", "name", "emails", "phones") if k in member}


async def lookup(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read())
        level, query = body["lookupLevel"], body.get("query") or {}
    except (ValueError, KeyError, TypeError):
        return error_response(request, 400, "the body must be JSON with lookupLevel and query")
    club = request.app[CLUB]
    club.lookups = [*club.lookups[-199:], body]
    if level == "DETAILED":
        ids = _values(query, "externalCustomerId")
        found = [m for m in club.members if ids and m["externalCustomerId"] == ids[0]]
        return web.json_response({"results": found[:1]})
    if level != "BASIC":
        return error_response(request, 500, f"unknown lookupLevel {level}")
    emails = {e.lower() for e in _values(query, "emails", "email")}
    asked_phones = {_digits(p) for p in _values(query, "phones", "phone")}
    asked_ids = set(_values(query, "externalCustomerId"))
    matches = [
        m
        for m in club.members
        if {e["original"].lower() for e in m.get("emails", [])} & emails
        or {_digits(p["original"]) for p in m.get("phones", [])} & asked_phones
        or m["externalCustomerId"] in asked_ids
    ]
    return web.json_response({"results": [_summary(m) for m in matches]})


FORMS: dict[str, dict[str, Any]] = {
    "add-points": {
        "title": "Add loyalty points",
        "submitButton": "Add points",
        "closeButton": "Cancel",
        "sections": [
            {
                "type": "input",
                "label": "Points",
                "attr": "points",
                "hint": "1 to 1000",
                "defaultValue": "100",
                "input": {"type": "text", "placeholder": "100"},
            },
            {
                "type": "input",
                "label": "Reason",
                "attr": "reason",
                "input": {
                    "type": "select",
                    "options": [{"text": "Goodwill", "value": "goodwill"}, {"text": "Late delivery", "value": "late"}],
                },
            },
            {
                "type": "input",
                "label": "Tell the customer",
                "attr": "notify",
                "defaultValue": "true",
                "input": {"type": "checkbox", "optional": True},
            },
        ],
    },
    "cancel-box": {
        "title": "Cancel this box",
        "submitButton": "Cancel box",
        "closeButton": "Keep it",
        "sections": [{"type": "input", "label": "Note", "attr": "note", "input": {"type": "text", "optional": True}}],
    },
}


async def form(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in FORMS:
        return error_response(request, 404, f"no action {name}")
    query = f"?{request.query_string}" if request.query_string else ""
    return web.json_response({**FORMS[name], "actionUrl": f"/actions/{name}/run{query}"})


async def run(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    try:
        values = json.loads(await request.read())
        assert isinstance(values, dict)
    except (ValueError, AssertionError):
        return error_response(request, 400, "the body must be a JSON object of the form's values")
    club = request.app[CLUB]
    if name == "add-points":
        member = next((m for m in club.members if m["externalCustomerId"] == request.query.get("customer")), None)
        if member is None:
            return web.json_response({"errors": [{"message": "This member no longer exists"}]}, status=406)
        try:
            points = int(str(values.get("points", "")).strip())
        except ValueError:
            points = 0
        if not 1 <= points <= 1000:
            return web.json_response(
                {"errors": [{"attr": "points", "detail": "Give a whole number from 1 to 1000", "code": "range"}]}, status=400
            )
        attrs = member.setdefault("customAttributes", {})
        attrs["points"] = str(int(str(attrs.get("points", 0))) + points)
        club.runs.append((name, values))
        return web.json_response({"message": f"Added {points} points", "detail": f"{member['name']} now has {attrs['points']} points"})
    if name == "cancel-box":
        number = request.query.get("order")
        for member in club.members:
            for t in member.get("transactions", []):
                if t.get("orderNumber") == number:
                    if t["orderStatus"] != "Processing":
                        return web.json_response(
                            {"errors": [{"message": f"Box {number} has shipped; it can no longer be cancelled"}]}, status=406
                        )
                    t["orderStatus"], t["actions"] = "Cancelled", []
                    club.runs.append((name, values))
                    return web.json_response({"message": f"Box {number} cancelled"})
        return web.json_response({"errors": [{"message": f"No box {number}"}]}, status=406)
    return error_response(request, 404, f"no action {name}")


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _seed(app: web.Application) -> None:
    app[CLUB] = Club()


def create_app(signing_key: str = SIGNING_KEY, username: str = USERNAME, password: str = PASSWORD) -> web.Application:
    """``username`` empty: no HTTP Basic auth asked."""
    app = web.Application(middlewares=[knobs_middleware(error_response), signature_middleware])
    app[STATE] = SandboxState()
    app[KEY] = signing_key
    app[BASIC_AUTH] = basic_header(username, password) if username else ""
    _seed(app)
    app.router.add_post("/lookup", lookup)
    app.router.add_get("/actions/{name}", form)
    app.router.add_post("/actions/{name}/run", run)
    add_control_routes(app, _seed)
    app.router.add_get("/__sandbox/lookups", lookups)
    app[DATA_KEYS] = {"club": CLUB}
    return app


async def lookups(request: web.Request) -> web.Response:
    return web.json_response(request.app[CLUB].lookups)
