"""Agents' and integrators' routes: customers, contacts, searches, links, actions (CustomerService)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.field_mask_pb2 import FieldMask
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2
from linkmesh.profile.v1.admin_pb2_grpc import AdminServiceStub
from linkmesh.profile.v1.customers_pb2_grpc import CustomerServiceStub

from linkmesh_core.errors import ServiceError
from linkmesh_gateway.errors import ApiError, from_action_error, invalid
from linkmesh_gateway.middleware import allow
from linkmesh_gateway.payloads import Reader, customer_input, json_object, valid_text
from linkmesh_gateway.responses import JSON, json_response
from linkmesh_gateway.serialize import customer_json, phones_formatted, to_json
from linkmesh_gateway.state import ADMIN, CUSTOMERS, SETTINGS
from linkmesh_gateway.views.common import rpc_timeout


@allow("agent")
async def record_contact(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("channel", "email", "phone", "name"))
    contact = profile_pb2.RecordContactRequest(
        channel=r.text("channel", required=True), email=r.text("email"), phone=r.text("phone"), name=r.text("name", max_length=200)
    )
    r.done()
    return json_response(to_json(await request.app[CUSTOMERS].RecordContact(contact, timeout=rpc_timeout(request))))


@allow("agent")
async def self_service_identify(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("email",))
    contact = profile_pb2.RecordContactRequest(channel="self_service", email=r.text("email", required=True))
    r.done()
    return json_response(to_json(await request.app[CUSTOMERS].RecordContact(contact, timeout=rpc_timeout(request))))


@allow("agent")
async def create_customer(request: web.Request) -> web.Response:
    data, given = customer_input(await json_object(request))
    if not given:
        raise invalid({"body": "give at least one of: name, emails, phones, address, custom_attributes"})
    customer = await request.app[CUSTOMERS].CreateCustomer(profile_pb2.CreateCustomerRequest(customer=data), timeout=rpc_timeout(request))
    return json_response(customer_json(customer), status=201)


@allow("agent")
async def find_customers(request: web.Request) -> web.Response:
    email, phone = request.query.get("email", ""), request.query.get("phone", "")
    if not email.strip() and not phone.strip():
        raise invalid({"email": "give email or phone as a query parameter"})
    answer = await request.app[CUSTOMERS].FindCustomersJson(
        profile_pb2.FindCustomersRequest(email=email, phone=phone), timeout=rpc_timeout(request)
    )
    return web.Response(body=answer.json, content_type=JSON, charset="utf-8")  # written by the profile, as customer_json writes each


@allow("agent")
async def customer_directory(request: web.Request) -> web.Response:
    r = Reader(dict(request.query), ("query", "limit", "page_token"))
    query = r.text("query", max_length=200)
    raw_limit = r.text("limit") or "25"
    page_token = r.text("page_token")
    r.done()
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 100:
        raise invalid({"limit": "must be a whole number from 1 to 100"})
    answer = await request.app[CUSTOMERS].ListCustomers(
        profile_pb2.ListCustomersRequest(query=query, limit=int(raw_limit), page_token=page_token), timeout=rpc_timeout(request)
    )
    return json_response(
        {
            "customers": [
                {"linked_apps": [], **to_json(c), "phones_formatted": phones_formatted(list(c.phones))} for c in answer.customers
            ],
            "next_page_token": answer.next_page_token,
        }
    )


@allow("agent", "admin")  # admins read the customer an audit entry names
async def get_customer(request: web.Request) -> web.Response:
    refresh = request.query.get("refresh", "all").strip() or "all"
    if refresh not in ("all", "none") and not re.fullmatch(r"[0-9a-f]{24}", refresh):
        raise invalid({"refresh": "must be all, none or the id of a linked app"})
    ask = profile_pb2.GetCustomerRequest(
        id=request.match_info["customer_id"], skip_refresh=refresh == "none", refresh_app_id="" if refresh in ("all", "none") else refresh
    )
    answer = await request.app[CUSTOMERS].GetCustomerJson(ask, timeout=rpc_timeout(request))
    return web.Response(body=answer.json, content_type=JSON, charset="utf-8")  # written by the profile, as customer_json writes it


@allow("agent")
async def update_customer(request: web.Request) -> web.Response:
    data, paths = customer_input(await json_object(request))
    if not paths:
        raise invalid({"body": "give at least one field to change"})
    customer = await request.app[CUSTOMERS].UpdateCustomer(
        profile_pb2.UpdateCustomerRequest(id=request.match_info["customer_id"], customer=data, update_mask=FieldMask(paths=paths)),
        timeout=rpc_timeout(request),
    )
    return json_response(customer_json(customer))


@allow("agent")
async def search_targets(request: web.Request) -> web.Response:
    """The apps an agent may search for this customer (active, not linked to them), by id,
    name and type and the fields each searches by; never their settings or secrets. With
    ``?email=&phone=&order_number=``, the apps that cannot search by those are under skipped."""
    query = {k: request.query.get(k, "") for k in ("email", "phone", "order_number")}
    profile = request.app[CUSTOMERS]
    answer, connectors = await asyncio.gather(
        profile.ListSearchTargets(
            profile_pb2.ListSearchTargetsRequest(customer_id=request.match_info["customer_id"], **query), timeout=rpc_timeout(request)
        ),
        request.app[ADMIN].ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=rpc_timeout(request)),
    )
    # What each app can be searched by: its connector's search fields (an order number too, where it can).
    fields = {
        c.type: [lookup_pb2.LookupField.Name(f).removeprefix("LOOKUP_FIELD_").lower() for f in c.describe.capabilities.search_fields]
        for c in connectors.connectors
        if not c.error_code
    }
    targets = [
        {
            "app_id": a.id,
            "app_name": a.name,
            "app_type": a.type,
            "search_fields": fields.get(a.type) or [q.attribute for q in a.search_query_attributes],
            "actions_enabled": a.actions_enabled,
        }
        for a in answer.apps
    ]
    return json_response({"targets": targets, "skipped": [to_json(s) for s in answer.skipped]})


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
    if not (email.strip() or phone.strip() or order_number.strip()):
        for name in ("email", "phone", "order_number"):
            r.errors.setdefault(name, "give an email, a phone or an order number to search by")
    r.done()
    profile = request.app[CUSTOMERS]
    settings = request.app[SETTINGS]
    search = profile_pb2.SearchExternalRequest(customer_id=customer_id, email=email, phone=phone, order_number=order_number)
    if app_id != "all":
        return json_response(await _search_one(profile, request.app[ADMIN], search, app_id, settings.search_timeout_s))
    # One call: the profile service searches every target in parallel, each within the deadline.
    answer = await profile.SearchAllExternal(
        profile_pb2.SearchAllExternalRequest(customer_id=customer_id, email=email, phone=phone, order_number=order_number),
        timeout=settings.search_timeout_s + 0.25,
    )
    results = [item for one in answer.answers for item in _results(one)]
    failures = [
        {
            "app_id": f.app_id,
            "app_name": f.app_name,
            "app_type": f.app_type,
            "code": f.code.lower(),
            "message": f.message,
            "retry_after_s": f.retry_after_s if f.HasField("retry_after_s") else None,
        }
        for f in answer.failures
    ]
    skipped = [to_json(s) for s in answer.skipped]
    # A query every system rejects is the caller's mistake: answer it once, as 422.
    if answer.failures and not answer.answers and all(f.code == "INVALID_ARGUMENT" for f in answer.failures):
        first = answer.failures[0]
        raise ApiError(422, "invalid_argument", first.message, dict(first.fields) or {"body": first.message})
    return json_response({"results": results, "failures": failures, "skipped": skipped})


async def _search_one(
    profile: CustomerServiceStub, admin: AdminServiceStub, search: profile_pb2.SearchExternalRequest, app_id: str, timeout: float
) -> dict[str, Any]:
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
            app = await admin.GetApp(profile_pb2.GetAppRequest(id=app_id), timeout=1.0)
            name, kind = app.name, app.type
        except grpc.aio.AioRpcError:
            name = kind = ""
        return {"results": [], "failures": [_failure(app_id, name, kind, err)], "skipped": []}
    return {"results": _results(answer), "failures": [], "skipped": []}


def _results(answer: profile_pb2.SearchExternalResponse) -> list[dict[str, Any]]:
    return [
        {
            "app_id": answer.app_id,
            "app_name": answer.app_name,
            "app_type": answer.app_type,
            "external_customer_id": item.external_customer_id,
            "attributes": [to_json(v) for v in item.attributes],
            "matched": item.matched,
            "linked_to": to_json(item.linked_to) if item.HasField("linked_to") else None,
        }
        for item in answer.results
    ]


def _failure(app_id: str, app_name: str, app_type: str, err: ServiceError) -> dict[str, Any]:
    return {
        "app_id": app_id,
        "app_name": app_name,
        "app_type": app_type,
        "code": err.code.name.lower(),
        "message": err.message,
        "retry_after_s": err.retry_after,
    }


@allow("agent")
async def link_customer(request: web.Request) -> web.Response:
    r = Reader(await json_object(request), ("app_id", "external_customer_id"))
    app_id = r.text("app_id", required=True)
    external_id = r.text("external_customer_id", required=True)
    r.done()
    customer = await request.app[CUSTOMERS].LinkCustomer(
        profile_pb2.LinkCustomerRequest(customer_id=request.match_info["customer_id"], app_id=app_id, external_customer_id=external_id),
        timeout=rpc_timeout(request),
    )
    return json_response(customer_json(customer), status=201)


@allow("agent")
async def run_action(request: web.Request) -> web.Response:
    """Runs an order action at most once per ``Idempotency-Key``; ``X-Actor`` says who ran it."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255 or not key.isprintable() or not valid_text(key):
        raise invalid(
            {
                "Idempotency-Key": "send an Idempotency-Key header of 1 to 255 printable characters; a retry with the same key "
                "never runs twice"
            }
        )
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
        answer = await request.app[CUSTOMERS].RunAction(
            profile_pb2.RunActionRequest(
                customer_id=request.match_info["customer_id"],
                app_id=app_id,
                action=action,
                order_id=order_id,
                params=params,
                idempotency_key=key,
                form_url=form_url,
            ),
            timeout=rpc_timeout(request),
        )
    except grpc.aio.AioRpcError as err:
        failed = ServiceError.from_rpc_error(err, "the profile service")
        if "idempotency_key" in failed.fields:  # the header's name, as the missing header is said
            failed.fields["Idempotency-Key"] = failed.fields.pop("idempotency_key")
        raise from_action_error(failed) from None
    out = to_json(answer)
    out["customer"] = customer_json(answer.customer)
    return json_response(out, headers={"Idempotent-Replayed": "true" if answer.replayed else "false"})


@allow("agent")
async def action_form(request: web.Request) -> web.Response:
    """The form of an action a linked record offers (``?app_id=&form_url=``)."""
    r = Reader(dict(request.query), ("app_id", "form_url"))
    app_id, form_url = r.text("app_id", required=True), r.text("form_url", required=True)
    r.done()
    answer = await request.app[CUSTOMERS].GetActionForm(
        profile_pb2.GetActionFormRequest(customer_id=request.match_info["customer_id"], app_id=app_id, form_url=form_url),
        timeout=rpc_timeout(request),
    )
    return json_response(to_json(answer))


@allow("agent")
async def unlink_customer(request: web.Request) -> web.Response:
    """Every system (Gladly's rule), or the one ``{app_id}`` names; it never auto-links again."""
    customer = await request.app[CUSTOMERS].UnlinkCustomer(
        profile_pb2.UnlinkCustomerRequest(customer_id=request.match_info["customer_id"], app_id=request.match_info.get("app_id", "")),
        timeout=rpc_timeout(request),
    )
    return json_response(customer_json(customer))
