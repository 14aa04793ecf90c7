"""Request handlers of the REST API (``/api/v1``)."""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.field_mask_pb2 import FieldMask
from grpc_health.v1 import health_pb2
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_gateway.auth import LIMITER
from linkmesh_gateway.config import ROLES
from linkmesh_gateway.errors import ApiError, from_action_error, invalid
from linkmesh_gateway.middleware import allow
from linkmesh_gateway.openapi import document
from linkmesh_gateway.payloads import Reader, app_input, customer_input, json_object, valid_text
from linkmesh_gateway.serialize import customer_json, to_json, trace_json
from linkmesh_gateway.state import OIDC, PROFILE, PROFILE_HEALTH, SETTINGS

ALL = ("admin", "agent", "developer")


def _timeout(request: web.Request) -> float:
    return request.app[SETTINGS].rpc_timeout_s


GLADLY_BUDGET_S = 14.0  # of the protocol's 15 s: the answer must reach the caller in time


async def gladly_lookup(request: web.Request) -> web.Response:
    """An app served as a Gladly Lookup Adaptor (its lookups, and its actions' forms and
    runs): relayed to the profile service as received (it verifies the signature over these
    exact bytes); no bearer token, the signature is the caller's proof."""
    settings = request.app[SETTINGS]
    wait = request.app[LIMITER].take(f"adaptor:{request.match_info['app_id']}", settings.adaptor_rate_limit_per_minute)
    if wait > 0:
        return web.json_response({"errors": [{"message": f"too many requests to this adaptor; retry in {math.ceil(wait)} s"}]},
                                 status=429, headers={"Retry-After": str(math.ceil(wait))})
    body = await request.read()
    try:
        answer = await request.app[PROFILE].ServeAdaptor(profile_pb2.ServeAdaptorRequest(
            app_id=request.match_info["app_id"], method=request.method, path=request.rel_url.raw_path,
            query=request.rel_url.raw_query_string, headers=dict(request.headers), body=body), timeout=GLADLY_BUDGET_S)
    except grpc.aio.AioRpcError as err:
        late = err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        message = "linkmesh did not answer within the protocol's 15 s budget" if late else "linkmesh did not answer"
        if "action" in request.match_info and request.method == "POST":
            message += "; the action's outcome is unknown: check the order before trying again"
        return web.json_response({"errors": [{"message": message}]}, status=504 if late else 503)
    return web.Response(status=answer.status, body=answer.body, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the profile service answers its health check as SERVING."""
    try:
        answer = await request.app[PROFILE_HEALTH].Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
    except grpc.aio.AioRpcError as err:
        return web.json_response({"status": "not_ready", "profile": err.code().name.lower()}, status=503)
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        return web.json_response({"status": "not_ready", "profile": "not_serving"}, status=503)
    return web.json_response({"status": "ready", "profile": "serving"})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


@allow(*ALL)
async def list_connectors(request: web.Request) -> web.Response:
    answer = await request.app[PROFILE].ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=_timeout(request))
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
    return web.json_response({"connectors": out})


# apps

def app_json(request: web.Request, app: profile_pb2.App) -> dict[str, Any]:
    """An app, with the URL its lookup adaptor is served at (on the address it was asked at)."""
    out = to_json(app)
    out["serving"]["url"] = f"{request.url.origin()}{app.serving.path}"
    return out

@allow("admin")
async def create_app(request: web.Request) -> web.Response:
    data, _ = app_input(await json_object(request), create=True)
    app = await request.app[PROFILE].CreateApp(profile_pb2.CreateAppRequest(app=data), timeout=_timeout(request))
    return web.json_response(app_json(request, app), status=201)


@allow("admin", "developer")
async def list_apps(request: web.Request) -> web.Response:
    answer = await request.app[PROFILE].ListApps(profile_pb2.ListAppsRequest(), timeout=_timeout(request))
    return web.json_response({"apps": [app_json(request, a) for a in answer.apps]})


@allow("admin", "developer")
async def get_app(request: web.Request) -> web.Response:
    app = await request.app[PROFILE].GetApp(profile_pb2.GetAppRequest(id=request.match_info["app_id"]), timeout=_timeout(request))
    return web.json_response(app_json(request, app))


@allow("admin")
async def update_app(request: web.Request) -> web.Response:
    data, paths = app_input(await json_object(request), create=False)
    if not paths:
        raise invalid({"body": "give at least one field to change"})
    app = await request.app[PROFILE].UpdateApp(
        profile_pb2.UpdateAppRequest(id=request.match_info["app_id"], app=data, update_mask=FieldMask(paths=paths)),
        timeout=_timeout(request),
    )
    return web.json_response(app_json(request, app))


async def _set_active(request: web.Request, active: bool) -> web.Response:
    data = profile_pb2.AppInput(active=active)
    app = await request.app[PROFILE].UpdateApp(
        profile_pb2.UpdateAppRequest(id=request.match_info["app_id"], app=data, update_mask=FieldMask(paths=["active"])),
        timeout=_timeout(request),
    )
    return web.json_response(app_json(request, app))


@allow("admin")
async def activate_app(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@allow("admin")
async def deactivate_app(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@allow("admin", "developer")
async def list_lookups(request: web.Request) -> web.Response:
    raw_limit = request.query.get("limit", "50")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 500:
        raise invalid({"limit": "must be a whole number from 1 to 500"})
    answer = await request.app[PROFILE].ListLookups(profile_pb2.ListLookupsRequest(
        app_id=request.match_info["app_id"], customer_id=request.query.get("customer_id", "").strip(), limit=int(raw_limit),
        kind=request.query.get("kind", "").strip(), outcome=request.query.get("outcome", "").strip(),
        page_token=request.query.get("page_token", "")), timeout=_timeout(request))
    return web.json_response({"lookups": [trace_json(t) for t in answer.lookups], "circuit": to_json(answer.circuit),
                              "next_page_token": answer.next_page_token})


@allow("admin", "developer")
async def debug_lookup(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("app_id", "email", "phone", "workflow"))
    query = profile_pb2.DebugLookupRequest(app_id=r.text("app_id", required=True), email=r.text("email"), phone=r.text("phone"),
                                           workflow=r.text("workflow", required=True))
    r.done()
    answer = await request.app[PROFILE].DebugLookup(query, timeout=_timeout(request))
    return web.json_response({"steps": [trace_json(t) for t in answer.steps], "would_link": answer.would_link,
                              "reason": answer.reason, "external_customer_id": answer.external_customer_id})


@allow("agent")
async def record_contact(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("channel", "email", "phone", "name"))
    contact = profile_pb2.RecordContactRequest(channel=r.text("channel", required=True), email=r.text("email"), phone=r.text("phone"),
                                               name=r.text("name", max_length=200))
    r.done()
    return web.json_response(to_json(await request.app[PROFILE].RecordContact(contact, timeout=_timeout(request))))


@allow("agent")
async def self_service_identify(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("email",))
    contact = profile_pb2.RecordContactRequest(channel="self_service", email=r.text("email", required=True))
    r.done()
    return web.json_response(to_json(await request.app[PROFILE].RecordContact(contact, timeout=_timeout(request))))


@allow("admin")
async def delete_app(request: web.Request) -> web.Response:
    await request.app[PROFILE].DeleteApp(profile_pb2.DeleteAppRequest(id=request.match_info["app_id"]), timeout=_timeout(request))
    return web.Response(status=204)


# customers

@allow("agent")
async def create_customer(request: web.Request) -> web.Response:
    data, given = customer_input(await json_object(request))
    if not given:
        raise invalid({"body": "give at least one of: name, emails, phones, address, custom_attributes"})
    customer = await request.app[PROFILE].CreateCustomer(profile_pb2.CreateCustomerRequest(customer=data), timeout=_timeout(request))
    return web.json_response(customer_json(customer), status=201)


@allow("agent")
async def find_customers(request: web.Request) -> web.Response:
    email, phone = request.query.get("email", ""), request.query.get("phone", "")
    if not email.strip() and not phone.strip():
        raise invalid({"email": "give email or phone as a query parameter"})
    answer = await request.app[PROFILE].FindCustomers(profile_pb2.FindCustomersRequest(email=email, phone=phone), timeout=_timeout(request))
    return web.json_response({"customers": [customer_json(c) for c in answer.customers]})


@allow("agent")
async def customer_directory(request: web.Request) -> web.Response:
    r = Reader(dict(request.query), ("query", "limit", "page_token"))
    query = r.text("query", max_length=200)
    raw_limit = r.text("limit") or "25"
    page_token = r.text("page_token")
    r.done()
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 100:
        raise invalid({"limit": "must be a whole number from 1 to 100"})
    answer = await request.app[PROFILE].ListCustomers(
        profile_pb2.ListCustomersRequest(query=query, limit=int(raw_limit), page_token=page_token), timeout=_timeout(request))
    return web.json_response({"customers": [{"linked_apps": [], **to_json(c)} for c in answer.customers],
                              "next_page_token": answer.next_page_token})


@allow("agent")
async def get_customer(request: web.Request) -> web.Response:
    refresh = request.query.get("refresh", "all").strip() or "all"
    if refresh not in ("all", "none") and not re.fullmatch(r"[0-9a-f]{24}", refresh):
        raise invalid({"refresh": "must be all, none or the id of a linked app"})
    ask = profile_pb2.GetCustomerRequest(id=request.match_info["customer_id"], skip_refresh=refresh == "none",
                                         refresh_app_id="" if refresh in ("all", "none") else refresh)
    customer = await request.app[PROFILE].GetCustomer(ask, timeout=_timeout(request))
    return web.json_response(customer_json(customer))


@allow("agent")
async def update_customer(request: web.Request) -> web.Response:
    data, paths = customer_input(await json_object(request))
    if not paths:
        raise invalid({"body": "give at least one field to change"})
    customer = await request.app[PROFILE].UpdateCustomer(
        profile_pb2.UpdateCustomerRequest(id=request.match_info["customer_id"], customer=data, update_mask=FieldMask(paths=paths)),
        timeout=_timeout(request),
    )
    return web.json_response(customer_json(customer))


@allow("agent")
async def search_targets(request: web.Request) -> web.Response:
    """The apps an agent may search for this customer (active, not linked to them), by id,
    name and type and the fields each searches by; never their settings or secrets. With
    ``?email=&phone=&order_number=``, the apps that cannot search by those are under skipped."""
    query = {k: request.query.get(k, "") for k in ("email", "phone", "order_number")}
    profile = request.app[PROFILE]
    answer, connectors = await asyncio.gather(
        profile.ListSearchTargets(profile_pb2.ListSearchTargetsRequest(customer_id=request.match_info["customer_id"], **query),
                                  timeout=_timeout(request)),
        profile.ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=_timeout(request)))
    # What each app can be searched by: its connector's search fields (an order number too, where it can).
    fields = {c.type: [lookup_pb2.LookupField.Name(f).removeprefix("LOOKUP_FIELD_").lower() for f in c.describe.capabilities.search_fields]
              for c in connectors.connectors if not c.error_code}
    targets = [{"app_id": a.id, "app_name": a.name, "app_type": a.type,
                "search_fields": fields.get(a.type) or [q.attribute for q in a.search_query_attributes],
                "actions_enabled": a.actions_enabled} for a in answer.apps]
    return web.json_response({"targets": targets, "skipped": [to_json(s) for s in answer.skipped]})


@allow("agent")
async def external_search(request: web.Request) -> web.Response:
    """Searches one app, or every unlinked active app at once ("all"), each in one call to
    the profile service.

    Each app is searched in parallel with its own deadline; the systems that
    answered give results, each one that did not gives a failure entry, and an
    app that cannot search by the given fields (a Magento app and a phone) is
    listed as skipped instead of being called.
    """
    customer_id = request.match_info["customer_id"]
    r = Reader(await json_object(request), ("app_id", "email", "phone", "order_number"))
    app_id = r.text("app_id", required=True).strip()
    email, phone, order_number = r.text("email"), r.text("phone"), r.text("order_number")
    r.done()
    profile = request.app[PROFILE]
    settings = request.app[SETTINGS]
    search = profile_pb2.SearchExternalRequest(customer_id=customer_id, email=email, phone=phone, order_number=order_number)
    if app_id != "all":
        return web.json_response(await _search_one(profile, search, app_id, settings.search_timeout_s))
    # One call: the profile service searches every target in parallel, each within the deadline.
    answer = await profile.SearchAllExternal(profile_pb2.SearchAllExternalRequest(
        customer_id=customer_id, email=email, phone=phone, order_number=order_number), timeout=settings.search_timeout_s + 0.25)
    results = [item for one in answer.answers for item in _results(one)]
    failures = [{"app_id": f.app_id, "app_name": f.app_name, "app_type": f.app_type, "code": f.code.lower(), "message": f.message,
                 "retry_after_s": f.retry_after_s if f.HasField("retry_after_s") else None} for f in answer.failures]
    skipped = [to_json(s) for s in answer.skipped]
    # A query every system rejects is the caller's mistake: answer it once, as 422.
    if answer.failures and not answer.answers and all(f.code == "INVALID_ARGUMENT" for f in answer.failures):
        first = answer.failures[0]
        raise ApiError(422, "invalid_argument", first.message, dict(first.fields) or {"body": first.message})
    return web.json_response({"results": results, "failures": failures, "skipped": skipped})


async def _search_one(profile: Any, search: profile_pb2.SearchExternalRequest, app_id: str, timeout: float) -> dict[str, Any]:
    """One app, in one call: the profile service checks the customer and the app itself. An
    error about the request (no such customer or app, an inactive app, a bad query) is the
    answer's status; the app's system failing is a failure entry, as in a search of all."""
    request = profile_pb2.SearchExternalRequest()
    request.CopyFrom(search)
    request.app_id = app_id
    try:
        answer = await profile.SearchExternal(request, timeout=timeout)
    except grpc.aio.AioRpcError as rpc_error:
        err = ServiceError.from_rpc_error(rpc_error, "the profile service")
        # A query the system rejects is the caller's mistake, as in a search of all.
        if err.code == grpc.StatusCode.INVALID_ARGUMENT or (not err.app_id and err.code != grpc.StatusCode.DEADLINE_EXCEEDED):
            raise err from None
        try:  # the failure path only: name the app
            app = await profile.GetApp(profile_pb2.GetAppRequest(id=app_id), timeout=1.0)
            name, kind = app.name, app.type
        except grpc.aio.AioRpcError:
            name = kind = ""
        return {"results": [], "failures": [_failure(app_id, name, kind, err)], "skipped": []}
    return {"results": _results(answer), "failures": [], "skipped": []}


def _results(answer: profile_pb2.SearchExternalResponse) -> list[dict[str, Any]]:
    return [{"app_id": answer.app_id, "app_name": answer.app_name, "app_type": answer.app_type,
             "external_customer_id": item.external_customer_id, "attributes": [to_json(v) for v in item.attributes]}
            for item in answer.results]


def _failure(app_id: str, app_name: str, app_type: str, err: ServiceError) -> dict[str, Any]:
    return {"app_id": app_id, "app_name": app_name, "app_type": app_type, "code": err.code.name.lower(), "message": err.message,
            "retry_after_s": err.retry_after}


@allow("agent")
async def link_customer(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("app_id", "external_customer_id"))
    app_id = r.text("app_id", required=True)
    external_id = r.text("external_customer_id", required=True)
    r.done()
    customer = await request.app[PROFILE].LinkCustomer(
        profile_pb2.LinkCustomerRequest(customer_id=request.match_info["customer_id"], app_id=app_id, external_customer_id=external_id),
        timeout=_timeout(request),
    )
    return web.json_response(customer_json(customer), status=201)


@allow("agent")
async def run_action(request: web.Request) -> web.Response:
    """Runs an order action at most once per ``Idempotency-Key``; ``X-Actor`` says who ran it."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255 or not key.isprintable() or not valid_text(key):
        raise invalid({"Idempotency-Key": "send an Idempotency-Key header of 1 to 255 printable characters; a retry with the same key "
                                          "never runs twice"})
    body = await json_object(request)
    r = Reader(body, ("app_id", "action", "order_id", "params", "form_url"))
    form_url = r.text("form_url")
    app_id, action, order_id = r.text("app_id", required=True), r.text("action", required=not form_url), r.text("order_id")
    raw_params = body.get("params") or {}
    params: dict[str, str] = {}
    if not isinstance(raw_params, dict):
        r.errors["params"] = "must be an object"
    else:
        for name, value in raw_params.items():
            if isinstance(value, bool):
                params[name] = "true" if value else "false"
            elif isinstance(value, (str, int, float)):
                params[name] = str(value)
            else:
                r.errors[f"params.{name}"] = "must be a string, number or boolean"
    r.done()
    try:
        answer = await request.app[PROFILE].RunAction(profile_pb2.RunActionRequest(
            customer_id=request.match_info["customer_id"], app_id=app_id, action=action, order_id=order_id, params=params,
            idempotency_key=key, form_url=form_url), timeout=_timeout(request))
    except grpc.aio.AioRpcError as err:
        raise from_action_error(ServiceError.from_rpc_error(err, "the profile service")) from None
    out = to_json(answer)
    out["customer"] = customer_json(answer.customer)
    return web.json_response(out, headers={"Idempotent-Replayed": "true" if answer.replayed else "false"})


@allow("agent")
async def action_form(request: web.Request) -> web.Response:
    """The form of an action a linked record offers (``?app_id=&form_url=``)."""
    r = Reader(dict(request.query), ("app_id", "form_url"))
    app_id, form_url = r.text("app_id", required=True), r.text("form_url", required=True)
    r.done()
    answer = await request.app[PROFILE].GetActionForm(profile_pb2.GetActionFormRequest(
        customer_id=request.match_info["customer_id"], app_id=app_id, form_url=form_url), timeout=_timeout(request))
    return web.json_response(to_json(answer))


@allow("agent")
async def unlink_customer(request: web.Request) -> web.Response:
    """Every system (Gladly's rule), or the one ``{app_id}`` names; it never auto-links again."""
    customer = await request.app[PROFILE].UnlinkCustomer(profile_pb2.UnlinkCustomerRequest(
        customer_id=request.match_info["customer_id"], app_id=request.match_info.get("app_id", "")), timeout=_timeout(request))
    return web.json_response(customer_json(customer))


# who is calling, API keys and the audit log

async def auth_config(request: web.Request) -> web.Response:
    """Public: how the console signs in. ``oidc`` is null when no identity provider is set up
    (then people sign in with an API key, which always works)."""
    verifier = request.app.get(OIDC)
    oidc = await verifier.public_config() if verifier is not None and verifier.config.client_id else None
    return web.json_response({"oidc": oidc, "api_keys": True, "frame_ancestors": request.app[SETTINGS].frame_origins},
                             headers={"Cache-Control": "no-store"})


@allow(*ALL)
async def whoami(request: web.Request) -> web.Response:
    """The verified caller: what the console shows as signed in."""
    actor = request["caller"].actor
    return web.json_response({"kind": actor.kind, "id": actor.id, "name": actor.name, "role": actor.role,
                              **({"on_behalf_of": actor.on_behalf_of} if actor.on_behalf_of else {})})


@allow("admin")
async def create_api_key(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("name", "role", "expires_at", "acts_for_others", "rate_limit_per_minute"))
    key = profile_pb2.CreateApiKeyRequest(name=r.text("name", required=True, max_length=100), role=r.text("role", required=True),
                                          acts_for_others=bool(r.bool("acts_for_others")))
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
    created = await request.app[PROFILE].CreateApiKey(key, timeout=_timeout(request))
    return web.json_response({**to_json(created.key), "secret": created.secret}, status=201, headers={"Cache-Control": "no-store"})


@allow("admin")
async def list_api_keys(request: web.Request) -> web.Response:
    include = request.query.get("include_revoked", "false")
    if include not in ("true", "false"):
        raise invalid({"include_revoked": "must be true or false"})
    answer = await request.app[PROFILE].ListApiKeys(profile_pb2.ListApiKeysRequest(include_revoked=include == "true"), timeout=_timeout(request))
    return web.json_response({"api_keys": [to_json(k) for k in answer.keys]})


@allow("admin")
async def revoke_api_key(request: web.Request) -> web.Response:
    key = await request.app[PROFILE].RevokeApiKey(profile_pb2.RevokeApiKeyRequest(id=request.match_info["key_id"]), timeout=_timeout(request))
    return web.json_response(to_json(key))


@allow("admin")
async def list_audit(request: web.Request) -> web.Response:
    names = ("actor_id", "action", "customer_id", "app_id", "outcome", "limit", "page_token")
    r = Reader(dict(request.query), names)
    filters = {n: r.text(n, max_length=300) for n in names if n != "limit"}
    raw_limit = r.text("limit") or "50"
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 500:
        r.errors["limit"] = "must be a whole number from 1 to 500"
    r.done()
    answer = await request.app[PROFILE].ListAudit(profile_pb2.ListAuditRequest(limit=int(raw_limit), **filters), timeout=_timeout(request))
    return web.json_response({"entries": [to_json(e) for e in answer.entries], "next_page_token": answer.next_page_token})
