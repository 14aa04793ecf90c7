"""Every linkmesh app served as a Gladly-compatible lookup adaptor.

The gateway relays ``POST /gladly/v1/apps/{app_id}/lookup`` here as received (method, path,
raw query, headers, body bytes): only this service holds the app's serving secrets. A
request is answered only when its ``Gladly-Authorization`` verifies over those exact bytes
with the app's signing key, within 5 minutes of ``Gladly-Time`` (and, when the app asks for
it, with its HTTP Basic credentials, compared in constant time). What failed is said in
general terms (missing, clock, or does not verify); the detail is logged, never answered.

BASIC answers candidates from the app's connector Search (emails and phones of the query, as
strings or arrays; an ``externalCustomerId`` alone is fetched); DETAILED answers the one
customer the connector's Fetch returns, with its orders (and returns, and other records) as
transactions. Every served lookup is a trace in the lookup debugger (``adaptor_basic``,
``adaptor_detailed``). A vendor that fails answers an error status within the caller's
budget, never a hang: the gateway gives the call 14 of the protocol's 15 seconds.
"""

from __future__ import annotations

import base64
import hmac
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.actor import Actor, bind_actor
from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, normalize_phone
from linkmesh_core.errors import ServiceError
from linkmesh_core.gladly_signing import SignatureError, parse_authorization, verify
from linkmesh_profile.adaptor.actions import ServedActions, answer, json_object, refusal
from linkmesh_profile.adaptor.replay_guard import ReplayGuard

if TYPE_CHECKING:
    from linkmesh_profile.actions.runner import ActionRunner
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.connectors.lookups import Lookups
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.served_adaptor")
LEVELS = ("BASIC", "DETAILED")
ROUTE = re.compile(r"(?P<base>.*/apps/[^/]+)/(?:lookup|actions/(?P<action>[^/]+))")
STATUS_OF = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNAUTHENTICATED: 502,
    grpc.StatusCode.PERMISSION_DENIED: 502,
}


def public_signature_problem(exc: SignatureError) -> str:
    """Missing, a clock problem, or does not verify: never which part failed beyond that."""
    text = str(exc)
    if "missing" in text and "Gladly-Authorization" in text:
        return "Gladly-Authorization is missing"
    if "Gladly-Time" in text:
        return "Gladly-Time is missing, malformed or more than 5 minutes from now"
    return "the request signature does not verify"


def values(query: dict[str, Any], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        value = query.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
                out.append(str(v).strip())
    return out


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _drop_empty(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v not in ("", None, [], {})}


def summary(c: lookup_pb2.CustomerSummary | lookup_pb2.Customer) -> dict[str, Any]:
    return _drop_empty(
        {
            "externalCustomerId": c.external_id,
            "name": c.name,
            "emails": [{"original": e} for e in c.emails],
            "phones": [_drop_empty({"original": p.number, "type": p.type.upper()}) for p in c.phones],
        }
    )


def _time(message: Any, field: str) -> str:
    return getattr(message, field).ToJsonString() if message.HasField(field) else ""


def order_transaction(o: lookup_pb2.Order) -> dict[str, Any]:
    return _drop_empty(
        {
            "type": "ORDER",
            "orderNumber": o.number or o.id,
            "orderStatus": o.status,
            "createdAt": _time(o, "created_at"),
            "orderTotal": o.total.amount if o.HasField("total") else "",
            "currencyCode": o.total.currency if o.HasField("total") else "",
            "orderLink": o.admin_url,
            "itemCount": sum(line.quantity for line in o.lines) or None,
            "products": [
                _drop_empty(
                    {
                        "id": line.id,
                        "name": line.name,
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unitPrice": line.unit_price.amount if line.HasField("unit_price") else "",
                        "productUrl": line.product_url,
                    }
                )
                for line in o.lines
            ],
            "fulfillments": [
                _drop_empty(
                    {
                        "trackingNumber": s.tracking_number,
                        "trackingUrl": s.tracking_url,
                        "carrier": s.carrier,
                        "status": s.method,
                        "shippedAt": _time(s, "shipped_at"),
                    }
                )
                for s in o.shipments
            ],
        }
    )


def return_transaction(r: lookup_pb2.Return) -> dict[str, Any]:
    refund = f"{r.refund_total.amount} {r.refund_total.currency}".strip() if r.HasField("refund_total") else ""
    return _drop_empty(
        {
            "type": "GENERIC",
            "name": f"Return {r.code or r.id}",
            "status": r.status,
            "orderNumber": r.order_id,
            "createdAt": _time(r, "created_at"),
            "refundTotal": refund,
            "items": ", ".join(f"{i.quantity} × {i.name}" for i in r.items),
            "link": r.admin_url,
        }
    )


def other_transaction(t: lookup_pb2.Transaction) -> dict[str, Any]:
    return _drop_empty(
        {"type": t.type or "GENERIC", "name": t.title, "createdAt": _time(t, "created_at"), **{f.key: f.value for f in t.fields}}
    )


def detailed(c: lookup_pb2.Customer) -> dict[str, Any]:
    a = c.address
    region = " ".join(x for x in (a.region, a.postal_code) if x)
    address = ", ".join(x for x in (a.line1, a.line2, a.city, region, a.country_code) if x)
    attributes = {ca.key: ca.value for ca in c.custom_attributes}
    if c.HasField("customer_since"):
        attributes.setdefault("customerSince", c.customer_since.ToJsonString())
    if c.admin_url:
        attributes.setdefault("adminUrl", c.admin_url)
    return _drop_empty(
        {
            **summary(c),
            "address": address,
            "customAttributes": attributes,
            "transactions": [
                *(order_transaction(o) for o in c.orders),
                *(return_transaction(r) for r in c.returns),
                *(other_transaction(t) for t in c.transactions),
            ],
        }
    )


class ServedAdaptor:
    def __init__(self, apps: AppService, lookups: Lookups, runner: ActionRunner, region: str, audit: AuditLog) -> None:
        self.replays = ReplayGuard(apps.store)
        self.apps = apps
        self.lookups = lookups
        self.region = region
        self.actions = ServedActions(runner, audit)

    async def serve(self, request: profile_pb2.ServeAdaptorRequest) -> profile_pb2.ServeAdaptorResponse:
        app = await self.apps.store.get_app(request.app_id)
        if app is None or not app.serving.enabled:
            # The same answer as a bad signature: a caller cannot tell which app ids exist.
            log.info("adaptor_signature_refused", app_id=request.app_id, reason="no lookup adaptor is served for this app")
            return refusal(401, "the request signature does not verify")
        secrets = self.apps.serving_secrets(app)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if app.serving.username:
            expected = basic_header(app.serving.username, secrets.get("password", ""))
            if not hmac.compare_digest(headers.get("authorization", "").encode(), expected.encode()):
                return refusal(401, "HTTP Basic credentials are missing or wrong")
        try:
            verify([secrets.get("signing_key", "")], request.method, request.path, request.query, headers, request.body)
        except SignatureError as exc:
            log.info("adaptor_signature_refused", app_id=request.app_id, reason=str(exc))
            return refusal(401, public_signature_problem(exc))
        problem = await self._replay_or_unsigned_action(request, headers)
        if problem is not None:
            return problem
        who = f"{app.serving.username} (Basic) on" if app.serving.username else "a signed caller of"
        bind_actor(Actor(kind="adaptor", id=f"serving:{request.app_id}", name=f"{who} the served adaptor of {app.name}"))
        route = ROUTE.fullmatch(request.path)
        if route is None:
            return refusal(404, "no lookup adaptor route at this path")
        if route.group("action") is not None:
            return await self.actions.serve(app, request, unquote(route.group("action")), route.group("base"))
        if request.method.upper() != "POST":
            return refusal(405, "send lookups with POST")
        body = json_object(request.body)
        if body is None:
            return refusal(400, "the body must be a JSON object with lookupLevel and query")
        level, query = body.get("lookupLevel"), body.get("query", {})
        if level not in LEVELS:
            return refusal(400, f"lookupLevel must be BASIC or DETAILED, not {str(level)[:40]!r}")
        if not isinstance(query, dict):
            return refusal(400, "query must be an object")
        if not app.active:
            return refusal(503, f"app {app.name} is inactive")
        try:
            if level == "BASIC":
                return await self._basic(app, query)
            return await self._detailed(app, query, route.group("base"))
        except ServiceError as err:
            if err.code == grpc.StatusCode.NOT_FOUND:
                return answer(200, {"results": []})
            return refusal(STATUS_OF.get(err.code, 503), err.public().message)

    async def _replay_or_unsigned_action(
        self, request: profile_pb2.ServeAdaptorRequest, headers: dict[str, str]
    ) -> profile_pb2.ServeAdaptorResponse | None:
        """A signed request seen before is a replay; an action POST must carry a signed
        Gladly-Correlation-Id (its idempotency key: unsigned, a replayer could pick a new one)."""
        auth = parse_authorization(headers.get("gladly-authorization"))
        route = ROUTE.fullmatch(request.path)
        if request.method.upper() == "POST" and route is not None and route.group("action") is not None:
            if not headers.get("gladly-correlation-id", "").strip() or "gladly-correlation-id" not in auth.signed_headers:
                return refusal(400, "an action needs a Gladly-Correlation-Id header, and the signature must cover it")
        if not await self.replays.first_time(request.app_id, auth.signature):
            log.info("adaptor_replay_refused", app_id=request.app_id)
            return refusal(401, "this signed request was received before: a replay is refused (sign each request anew)")
        return None

    async def _basic(self, app: App, query: dict[str, Any]) -> profile_pb2.ServeAdaptorResponse:
        allowed = set(app.searches_by)
        emails, phones = [], []
        for raw in values(query, "emails", "email") if "email" in allowed else []:
            try:
                emails.append(normalize_email(raw))
            except InvalidContactPoint:
                continue
        for raw in values(query, "phones", "phone") if "phone" in allowed else []:
            try:
                phones.append(normalize_phone(raw, self.region))
            except InvalidContactPoint:
                continue
        if emails or phones:
            found, _ = await self.lookups.search(
                app, "", emails=list(dict.fromkeys(emails)), phones=list(dict.fromkeys(phones)), kind="adaptor_basic"
            )
            return answer(200, {"results": [summary(c) for c in found.candidates]})
        ids = values(query, "externalCustomerId")
        if ids:
            fetched = await self.lookups.fetch(app, "", ids[0], kind="adaptor_basic")
            return answer(200, {"results": [summary(fetched.customer)]})
        return answer(200, {"results": []})  # nothing this app searches by

    async def _detailed(self, app: App, query: dict[str, Any], base: str) -> profile_pb2.ServeAdaptorResponse:
        ids = values(query, "externalCustomerId")
        if not ids:
            return refusal(400, "a DETAILED lookup needs query.externalCustomerId")
        fetched = await self.lookups.fetch(app, "", ids[0], kind="adaptor_detailed")
        result = detailed(fetched.customer)
        if app.actions_enabled:
            await self.actions.offer(app, fetched.customer, result, base)
        return answer(200, {"results": [result]})
