"""Admins' routes: connectors, apps, the lookup debugger, API keys, the audit log (AdminService)."""

from __future__ import annotations

from typing import Any

import grpc
from aiohttp import web
from google.protobuf.field_mask_pb2 import FieldMask
from linkmesh.profile.v1 import profile_pb2

from linkmesh_gateway.auth import KEY_CACHE
from linkmesh_gateway.config import ROLES
from linkmesh_gateway.errors import invalid
from linkmesh_gateway.middleware import allow
from linkmesh_gateway.payloads import Reader, app_input, json_object
from linkmesh_gateway.responses import json_response
from linkmesh_gateway.serialize import circuit_json, to_json, trace_json
from linkmesh_gateway.state import ADMIN
from linkmesh_gateway.views.common import ALL, rpc_timeout


@allow(*ALL)
async def list_connectors(request: web.Request) -> web.Response:
    answer = await request.app[ADMIN].ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=rpc_timeout(request))
    out = []
    for c in answer.connectors:
        item: dict[str, Any] = {"type": c.type, "available": not c.error_code}
        if c.error_code:
            item["error"] = {"code": c.error_code.lower(), "message": c.error_message}
        else:
            d = to_json(c.describe)
            caps = d.get("capabilities", {})
            item.update(
                display_name=d.get("display_name", ""),
                search_fields=[f.removeprefix("LOOKUP_FIELD_").lower() for f in caps.get("search_fields", [])],
                auto_link_fields=[f.removeprefix("LOOKUP_FIELD_").lower() for f in caps.get("auto_link_fields", [])],
                actions=caps.get("actions", []),
                result_attributes=caps.get("result_attributes", []),
                settings=d.get("settings", []),
            )
        out.append(item)
    return json_response({"connectors": out})


def app_json(request: web.Request, app: profile_pb2.App) -> dict[str, Any]:
    """An app, with the URL its lookup adaptor is served at (on the address it was asked at)."""
    out = to_json(app)
    out["serving"]["url"] = f"{request.url.origin()}{app.serving.path}"
    out["health"] = circuit_json(app.health)
    out["webhooks"] = {"checked_at": None, **to_json(app.webhooks)} if app.HasField("webhooks") else None
    return out


@allow("admin")
async def create_app(request: web.Request) -> web.Response:
    data, _ = app_input(await json_object(request), create=True)
    app = await request.app[ADMIN].CreateApp(profile_pb2.CreateAppRequest(app=data), timeout=rpc_timeout(request))
    return json_response(app_json(request, app), status=201)


@allow("admin", "developer")
async def list_apps(request: web.Request) -> web.Response:
    answer = await request.app[ADMIN].ListApps(profile_pb2.ListAppsRequest(), timeout=rpc_timeout(request))
    return json_response({"apps": [app_json(request, a) for a in answer.apps]})


@allow("admin", "developer")
async def get_app(request: web.Request) -> web.Response:
    app = await request.app[ADMIN].GetApp(profile_pb2.GetAppRequest(id=request.match_info["app_id"]), timeout=rpc_timeout(request))
    return json_response(app_json(request, app))


@allow("admin")
async def update_app(request: web.Request) -> web.Response:
    data, paths = app_input(await json_object(request), create=False)
    if not paths:
        raise invalid({"body": "give at least one field to change"})
    app = await request.app[ADMIN].UpdateApp(
        profile_pb2.UpdateAppRequest(id=request.match_info["app_id"], app=data, update_mask=FieldMask(paths=paths)),
        timeout=rpc_timeout(request),
    )
    return json_response(app_json(request, app))


async def _set_active(request: web.Request, active: bool) -> web.Response:
    data = profile_pb2.AppInput(active=active)
    app = await request.app[ADMIN].UpdateApp(
        profile_pb2.UpdateAppRequest(id=request.match_info["app_id"], app=data, update_mask=FieldMask(paths=["active"])),
        timeout=rpc_timeout(request),
    )
    return json_response(app_json(request, app))


@allow("admin")
async def activate_app(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@allow("admin")
async def deactivate_app(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@allow("admin", "developer")
async def list_lookups(request: web.Request) -> web.Response:
    """One app's lookups (``/apps/{app_id}/lookups``, with its health) or every app's (``/lookups``)."""
    raw_limit = request.query.get("limit", "50")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 500:
        raise invalid({"limit": "must be a whole number from 1 to 500"})
    app_id = request.match_info.get("app_id") or request.query.get("app_id", "").strip()
    answer = await request.app[ADMIN].ListLookups(
        profile_pb2.ListLookupsRequest(
            app_id=app_id,
            customer_id=request.query.get("customer_id", "").strip(),
            limit=int(raw_limit),
            kind=request.query.get("kind", "").strip(),
            outcome=request.query.get("outcome", "").strip(),
            page_token=request.query.get("page_token", ""),
        ),
        timeout=rpc_timeout(request),
    )
    return json_response(
        {
            "lookups": [trace_json(t) for t in answer.lookups],
            "circuit": circuit_json(answer.circuit) if answer.HasField("circuit") else None,
            "next_page_token": answer.next_page_token,
        }
    )


@allow("admin", "developer")
async def debug_lookup(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("app_id", "email", "phone", "workflow"))
    query = profile_pb2.DebugLookupRequest(
        app_id=r.text("app_id", required=True), email=r.text("email"), phone=r.text("phone"), workflow=r.text("workflow", required=True)
    )
    r.done()
    answer = await request.app[ADMIN].DebugLookup(query, timeout=rpc_timeout(request))
    return json_response(
        {
            "steps": [trace_json(t) for t in answer.steps],
            "would_link": answer.would_link,
            "reason": answer.reason,
            "external_customer_id": answer.external_customer_id,
        }
    )


@allow("admin")
async def delete_app(request: web.Request) -> web.Response:
    await request.app[ADMIN].DeleteApp(profile_pb2.DeleteAppRequest(id=request.match_info["app_id"]), timeout=rpc_timeout(request))
    return web.Response(status=204)


@allow("admin")
async def create_api_key(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("name", "role", "expires_at", "acts_for_others", "rate_limit_per_minute"))
    key = profile_pb2.CreateApiKeyRequest(
        name=r.text("name", required=True, max_length=100),
        role=r.text("role", required=True),
        acts_for_others=bool(r.bool("acts_for_others")),
    )
    if key.role and key.role not in ROLES:
        r.errors["role"] = f"must be one of: {', '.join(ROLES)}"
    expires = r.text("expires_at")
    if expires:
        try:
            key.expires_at.FromJsonString(expires)
        except ValueError:
            r.errors["expires_at"] = "must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z"
    limit = r.body.get("rate_limit_per_minute")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            r.errors["rate_limit_per_minute"] = "must be a whole number, 0 for the gateway's default"
        else:
            key.rate_limit_per_minute = min(limit, 2**31 - 1)
    r.done()
    created = await request.app[ADMIN].CreateApiKey(key, timeout=rpc_timeout(request))
    return json_response({**to_json(created.key), "secret": created.secret}, status=201, headers={"Cache-Control": "no-store"})


@allow("admin")
async def list_api_keys(request: web.Request) -> web.Response:
    include = request.query.get("include_revoked", "false")
    if include not in ("true", "false"):
        raise invalid({"include_revoked": "must be true or false"})
    answer = await request.app[ADMIN].ListApiKeys(
        profile_pb2.ListApiKeysRequest(include_revoked=include == "true"), timeout=rpc_timeout(request)
    )
    return json_response({"api_keys": [to_json(k) for k in answer.keys]})


@allow("admin")
async def revoke_api_key(request: web.Request) -> web.Response:
    key_id = request.match_info["key_id"]
    try:
        key = await request.app[ADMIN].RevokeApiKey(profile_pb2.RevokeApiKeyRequest(id=key_id), timeout=rpc_timeout(request))
    finally:  # after the call (a request meanwhile may have been answered as before), whatever its outcome
        request.app[KEY_CACHE].forget(key_id)
    return json_response(to_json(key))


# An audit entry's outcome: ok, or the code of the failure (lower case, as error codes are).
OUTCOMES = ("ok", *(c.name.lower() for c in grpc.StatusCode if c != grpc.StatusCode.OK))


@allow("admin")
async def list_audit(request: web.Request) -> web.Response:
    names = ("actor_id", "action", "customer_id", "app_id", "outcome", "limit", "page_token")
    r = Reader(dict(request.query), names)
    filters = {n: r.text(n, max_length=300) for n in names if n != "limit"}
    raw_limit = r.text("limit") or "50"
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 500:
        r.errors["limit"] = "must be a whole number from 1 to 500"
    if filters["outcome"] and filters["outcome"].lower() not in OUTCOMES:
        r.errors["outcome"] = f"must be one of: {', '.join(OUTCOMES)}"
    r.done()
    filters["outcome"] = filters["outcome"].upper()  # as the log keeps it: OK or a gRPC code's name
    answer = await request.app[ADMIN].ListAudit(profile_pb2.ListAuditRequest(limit=int(raw_limit), **filters), timeout=rpc_timeout(request))
    entries = [{**to_json(e), "outcome": e.outcome.lower()} for e in answer.entries]  # one case for codes, as in errors
    return json_response({"entries": entries, "next_page_token": answer.next_page_token})
