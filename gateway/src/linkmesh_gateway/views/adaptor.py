"""Apps served as Gladly lookup adaptors: the protocol's routes.

Every request is first verified by the profile service, which alone holds the app's serving
secrets (the signature covers these exact bytes; no bearer token, the signature is the caller's
proof); then the gateway reads the protocol's JSON, asks the profile service in its own terms
and answers in the protocol's (``linkmesh_gateway.gladly``). The whole exchange stays within 14
of the protocol's 15 seconds.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass

import grpc
from aiohttp import web
from linkmesh.profile.v1 import adaptor_pb2

from linkmesh_core.actor import Actor, bind_actor
from linkmesh_core.errors import ServiceError
from linkmesh_core.gladly_signing import parse_authorization
from linkmesh_gateway.auth import LIMITER
from linkmesh_gateway.gladly import answers
from linkmesh_gateway.gladly.failures import answer, form_failure, lookup_failure, refusal, run_failure, verify_failure
from linkmesh_gateway.state import ADAPTOR, SETTINGS

GLADLY_BUDGET_S = 14.0  # of the protocol's 15 s: the answer must reach the caller in time
LEVELS = ("BASIC", "DETAILED")
BASE = re.compile(r"(?P<base>.*/apps/[^/]+)/(?:lookup|actions/[^/]+)")


@dataclass(frozen=True)
class Verified:
    caller: adaptor_pb2.AdaptorCaller
    app_id: str
    body: bytes
    base: str  # the adaptor's path up to the app, which its action routes extend
    deadline: float

    def left(self) -> float:
        return max(self.deadline - asyncio.get_running_loop().time(), 0.01)


def error_of(err: grpc.aio.AioRpcError) -> ServiceError:
    return ServiceError.from_rpc_error(err, "linkmesh")


async def verified(request: web.Request) -> Verified | web.Response:
    """The verified request, or the answer that refuses it (a rate limit, a bad signature)."""
    deadline = asyncio.get_running_loop().time() + GLADLY_BUDGET_S
    app_id = request.match_info["app_id"]
    wait = request.app[LIMITER].take(f"adaptor:{app_id}", request.app[SETTINGS].adaptor_rate_limit_per_minute)
    if wait > 0:
        return refusal(429, f"too many requests to this adaptor; retry in {math.ceil(wait)} s", wait)
    body = await request.read()
    raw = adaptor_pb2.AdaptorHttpRequest(
        app_id=app_id,
        method=request.method,
        path=request.rel_url.raw_path,
        query=request.rel_url.raw_query_string,
        headers=dict(request.headers),
        body=body,
    )
    try:
        caller = await request.app[ADAPTOR].VerifyAdaptorRequest(raw, timeout=GLADLY_BUDGET_S)
    except grpc.aio.AioRpcError as err:
        return verify_failure(error_of(err))
    a = caller.actor
    bind_actor(Actor(kind=a.kind, id=a.id, name=a.name, role=a.role))
    match = BASE.fullmatch(request.rel_url.raw_path)
    return Verified(caller, app_id, body, match.group("base") if match else "", deadline)


async def gladly_lookup(request: web.Request) -> web.Response:
    """``POST …/lookup``: a BASIC or DETAILED lookup of the app's customers."""
    v = await verified(request)
    if isinstance(v, web.Response):
        return v
    body = answers.json_object(v.body)
    if body is None:
        return refusal(400, "the body must be a JSON object with lookupLevel and query")
    level, query = body.get("lookupLevel"), body.get("query", {})
    if level not in LEVELS:
        return refusal(400, f"lookupLevel must be BASIC or DETAILED, not {str(level)[:40]!r}")
    if not isinstance(query, dict):
        return refusal(400, "query must be an object")
    if not v.caller.active:
        return refusal(503, f"app {v.caller.app_name} is inactive")
    ids = answers.values(query, "externalCustomerId")
    if level == "DETAILED" and not ids:
        return refusal(400, "a DETAILED lookup needs query.externalCustomerId")
    asked = adaptor_pb2.AdaptorLookupRequest(
        app_id=v.app_id,
        level=level,
        emails=answers.values(query, "emails", "email"),
        phones=answers.values(query, "phones", "phone"),
        external_customer_id=ids[0] if ids else "",
    )
    try:
        found = await request.app[ADAPTOR].AdaptorLookup(asked, timeout=v.left())
    except grpc.aio.AioRpcError as err:
        return lookup_failure(error_of(err))
    if level == "BASIC":
        return answer(200, {"results": [answers.summary(c) for c in found.candidates]})
    return answer(200, {"results": [answers.detailed(found.customer, list(found.actions), v.base)]})


def action_target(request: web.Request, v: Verified) -> tuple[str, str] | web.Response:
    """The customer and order an action URL names, or the refusal when it cannot run here."""
    if not v.caller.active:
        return refusal(406, f"app {v.caller.app_name} is inactive")
    if not v.caller.actions_enabled:
        return refusal(406, f"actions are turned off for app {v.caller.app_name}")
    customer = request.query.get("customer", "").strip()
    if not customer:
        return refusal(400, "the action URL must name the customer (?customer=<externalCustomerId>)")
    return customer, request.query.get("order", "").strip()


async def gladly_action_form(request: web.Request) -> web.Response:
    """``GET …/actions/{action}``: the action's form, whose ``actionUrl`` is this same URL."""
    v = await verified(request)
    if isinstance(v, web.Response):
        return v
    target = action_target(request, v)
    if isinstance(target, web.Response):
        return target
    name = request.match_info["action"]
    try:
        spec = await request.app[ADAPTOR].GetAdaptorActionForm(
            adaptor_pb2.GetAdaptorActionFormRequest(app_id=v.app_id, action=name), timeout=v.left()
        )
    except grpc.aio.AioRpcError as err:
        return form_failure(error_of(err))
    return answer(200, answers.form(spec, answers.action_url(v.base, name, *target)))


def correlation_id(request: web.Request) -> str:
    """The action's idempotency key: a Gladly-Correlation-Id the signature covers (unsigned, a
    replayer could pick a new one); empty when there is none."""
    key = request.headers.get("Gladly-Correlation-Id", "").strip()
    signed = parse_authorization(request.headers.get("Gladly-Authorization")).signed_headers  # verified already
    return key if "gladly-correlation-id" in signed else ""


async def gladly_action_run(request: web.Request) -> web.Response:
    """``POST …/actions/{action}``: runs the action with the posted values, once per correlation id."""
    v = await verified(request)
    if isinstance(v, web.Response):
        return v
    key = correlation_id(request)
    if not key:
        return refusal(400, "an action needs a Gladly-Correlation-Id header, and the signature must cover it")
    target = action_target(request, v)
    if isinstance(target, web.Response):
        return target
    body = answers.json_object(v.body or b"{}")
    if body is None:
        return refusal(400, "the body must be a JSON object of the form's values keyed by attr")
    params, errors = answers.params_of(body)
    if errors:
        return answer(400, {"errors": errors})
    customer, order = target
    run = adaptor_pb2.RunAdaptorActionRequest(
        app_id=v.app_id,
        action=request.match_info["action"],
        external_customer_id=customer,
        order_id=order,
        params=params,
        idempotency_key=key,
    )
    try:
        result = await request.app[ADAPTOR].RunAdaptorAction(run, timeout=v.left())
    except grpc.aio.AioRpcError as err:
        return run_failure(error_of(err))
    return answer(200, answers.done(result.message, dict(result.result)))
