"""BigCommerce's webhooks in the sandbox (Webhooks v3, bigcommerce/docs ``reference/webhooks.v3.yml``
and ``reference/webhooks/callbacks/``): ``POST /v3/hooks`` makes one (``scope``, ``destination``,
``is_active``, custom ``headers``), ``GET /v3/hooks`` lists them (filters ``scope``,
``destination``, ``is_active``), ``GET|PUT|DELETE /v3/hooks/{id}``.

When the store's data changes through its API (an order's status, a refund) each active hook
whose scope matches (``store/order/*`` matches every order scope) is sent
``{scope, store_id, data: {type, id, ...}, hash, created_at, producer}`` with the hook's custom
headers, which is how a receiver knows the delivery is the store's (BigCommerce signs nothing
else). ``hash`` is the SHA-1 of the data's JSON. BigCommerce wants port 443; the sandbox also
takes ``http://`` on a loopback host, for a receiver on the same machine.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from linkmesh_sandboxes.bigcommerce.http import error_response, store_of
from linkmesh_sandboxes.deliveries import SENDER, Delivery

SCOPES = (
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/order/refund/created",
    "store/customer/updated",
    "store/shipment/created",
    "store/shipment/updated",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
HOOKS = web.AppKey("bigcommerce_hooks", dict)


def matches(scope: str, wanted: str) -> bool:
    return wanted == scope or (wanted.endswith("/*") and scope.startswith(wanted[:-1]))


def _problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    scope, destination = str(body.get("scope") or ""), str(body.get("destination") or "")
    if not any(matches(s, scope) for s in SCOPES):
        return f"The scope '{scope}' is not a webhook scope."
    parts = urlsplit(destination)
    if not (parts.scheme == "https" and parts.port in (None, 443)) and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return "The destination must be an https URL served on port 443."
    return None


async def create_hook(request: web.Request) -> web.Response:
    store, body = store_of(request), await request.json()
    problem = _problem(body)
    if problem:
        return error_response(request, 422, problem)
    hooks: dict[int, dict[str, Any]] = request.app[HOOKS]
    now = int(time.time())
    hook = {
        "id": max(hooks, default=18_048_286) + 1,
        "client_id": "sandbox-client",
        "store_hash": store.store_hash,
        "scope": body["scope"],
        "destination": body["destination"],
        "is_active": bool(body.get("is_active", True)),
        "headers": {str(k): str(v) for k, v in (body.get("headers") or {}).items()},
        "created_at": now,
        "updated_at": now,
    }
    hooks[hook["id"]] = hook
    return web.json_response({"data": hook, "meta": {}})


async def list_hooks(request: web.Request) -> web.Response:
    q = request.query
    found = [
        h
        for h in sorted(request.app[HOOKS].values(), key=lambda h: h["id"])
        if ("scope" not in q or h["scope"] == q["scope"])
        and ("destination" not in q or h["destination"] == q["destination"])
        and ("is_active" not in q or str(h["is_active"]).lower() == q["is_active"].lower())
    ]
    pagination = {"total": len(found), "count": len(found), "per_page": 250, "current_page": 1, "total_pages": 1, "links": {}}
    return web.json_response({"data": found, "meta": {"pagination": pagination}})


def _hook(request: web.Request) -> dict[str, Any] | web.Response:
    raw = request.match_info["hook_id"]
    hook = request.app[HOOKS].get(int(raw)) if raw.isdigit() else None
    return hook if hook is not None else error_response(request, 404, "The requested webhook was not found.")


async def get_hook(request: web.Request) -> web.Response:
    hook = _hook(request)
    return hook if isinstance(hook, web.Response) else web.json_response({"data": hook, "meta": {}})


async def update_hook(request: web.Request) -> web.Response:
    """``PUT /v3/hooks/{id}``: its scope, destination, whether it is active, its headers."""
    hook = _hook(request)
    if isinstance(hook, web.Response):
        return hook
    body = await request.json()
    changed = {**hook, **{k: body[k] for k in ("scope", "destination", "is_active", "headers") if isinstance(body, dict) and k in body}}
    problem = _problem(changed)
    if problem:
        return error_response(request, 422, problem)
    changed["headers"] = {str(k): str(v) for k, v in (changed.get("headers") or {}).items()}
    changed["is_active"], changed["updated_at"] = bool(changed["is_active"]), int(time.time())
    hook.update(changed)
    return web.json_response({"data": hook, "meta": {}})


async def delete_hook(request: web.Request) -> web.Response:
    hook = _hook(request)
    if isinstance(hook, web.Response):
        return hook
    del request.app[HOOKS][hook["id"]]
    return web.json_response({"data": hook, "meta": {}})


def emit(request: web.Request, scope: str, data: dict[str, Any]) -> None:
    """One event of ``scope`` to every active hook of the store whose scope matches it."""
    store = store_of(request)
    hooks = [
        h for h in request.app[HOOKS].values() if h["is_active"] and h["store_hash"] == store.store_hash and matches(scope, h["scope"])
    ]
    if not hooks:
        return
    payload = {
        "scope": scope,
        "store_id": "1025646",
        "data": data,
        "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest(),
        "created_at": int(time.time()),
        "producer": f"stores/{store.store_hash}",
    }
    body, event_id = json.dumps(payload).encode(), str(uuid.uuid4())
    request.app[SENDER].send(
        [Delivery(h["destination"], scope, event_id, body, {"Content-Type": "application/json", **h["headers"]}) for h in hooks]
    )


def add_hook_routes(app: web.Application, prefix: str) -> None:
    app[HOOKS] = {}
    app.router.add_post(f"{prefix}/v3/hooks", create_hook)
    app.router.add_get(f"{prefix}/v3/hooks", list_hooks)
    app.router.add_get(f"{prefix}/v3/hooks/{{hook_id}}", get_hook)
    app.router.add_put(f"{prefix}/v3/hooks/{{hook_id}}", update_hook)
    app.router.add_delete(f"{prefix}/v3/hooks/{{hook_id}}", delete_hook)
