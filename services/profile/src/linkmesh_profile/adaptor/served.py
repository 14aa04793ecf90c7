"""Every linkmesh app served as a Gladly-compatible lookup adaptor: the part only the profile
service can do. The gateway owns the protocol's HTTP (routes, status codes, JSON, see
``linkmesh_gateway.adaptor``); this service holds the apps' serving secrets, so it verifies.

A request is answered only when its ``Gladly-Authorization`` verifies over its exact bytes with
the app's signing key, within 5 minutes of ``Gladly-Time`` (and, when the app asks for it, with
its HTTP Basic credentials, compared in constant time), and was not received before. What failed
is said in general terms (missing, clock, or does not verify); the detail is logged, never
answered. An app that is not served answers as a bad signature does.

BASIC answers candidates from the app's connector Search (the emails and phones of the query
the app searches by; an ``externalCustomerId`` alone is fetched); DETAILED answers the one
customer the connector's Fetch returns, with the app's actions when they are on. Every served
lookup is a trace in the lookup debugger (``adaptor_basic``, ``adaptor_detailed``).
"""

from __future__ import annotations

import base64
import hmac
from typing import TYPE_CHECKING

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import adaptor_pb2, profile_pb2

from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, normalize_phone
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.gladly_signing import SignatureError, parse_authorization, verify
from linkmesh_profile.db.signatures import Signatures

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.connectors.lookups import Lookups
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.served_adaptor")
LEVELS = ("BASIC", "DETAILED")
NOT_VERIFIED = "the request signature does not verify"


def refused(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAUTHENTICATED, message)


def public_signature_problem(exc: SignatureError) -> str:
    """Missing, a clock problem, or does not verify: never which part failed beyond that."""
    text = str(exc)
    if "missing" in text and "Gladly-Authorization" in text:
        return "Gladly-Authorization is missing"
    if "Gladly-Time" in text:
        return "Gladly-Time is missing, malformed or more than 5 minutes from now"
    return NOT_VERIFIED


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def summary_of(c: lookup_pb2.Customer) -> lookup_pb2.CustomerSummary:
    return lookup_pb2.CustomerSummary(external_id=c.external_id, name=c.name, emails=c.emails, phones=c.phones)


class ServedAdaptor:
    def __init__(self, apps: AppService, lookups: Lookups, region: str) -> None:
        self.replays = Signatures(apps.store)
        self.apps = apps
        self.lookups = lookups
        self.region = region

    async def served_app(self, app_id: str) -> App:
        app = await self.apps.store.get_app(app_id)
        if app is None or not app.serving.enabled:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, "no lookup adaptor is served for this app")
        return app

    async def verify(self, request: adaptor_pb2.AdaptorHttpRequest) -> adaptor_pb2.AdaptorCaller:
        """The caller of a signed request, or UNAUTHENTICATED saying in general terms why not."""
        app = await self.apps.store.get_app(request.app_id)
        if app is None or not app.serving.enabled:
            # The same answer as a bad signature: a caller cannot tell which app ids exist.
            log.info("adaptor_signature_refused", app_id=request.app_id, reason="no lookup adaptor is served for this app")
            raise refused(NOT_VERIFIED)
        secrets = self.apps.serving_secrets(app)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if app.serving.username:
            expected = basic_header(app.serving.username, secrets.get("password", ""))
            if not hmac.compare_digest(headers.get("authorization", "").encode(), expected.encode()):
                raise refused("HTTP Basic credentials are missing or wrong")
        try:
            verify([secrets.get("signing_key", "")], request.method, request.path, request.query, headers, request.body)
        except SignatureError as exc:
            log.info("adaptor_signature_refused", app_id=request.app_id, reason=str(exc))
            raise refused(public_signature_problem(exc)) from None
        signature = parse_authorization(headers.get("gladly-authorization")).signature
        if not await self.replays.first_time(request.app_id, signature):
            log.info("adaptor_replay_refused", app_id=request.app_id)
            raise refused("this signed request was received before: a replay is refused (sign each request anew)")
        who = f"{app.serving.username} (Basic) on" if app.serving.username else "a signed caller of"
        actor = profile_pb2.Actor(kind="adaptor", id=f"serving:{app.id}", name=f"{who} the served adaptor of {app.name}")
        return adaptor_pb2.AdaptorCaller(actor=actor, app_name=app.name, active=app.active, actions_enabled=app.actions_enabled)

    async def lookup(self, request: adaptor_pb2.AdaptorLookupRequest) -> adaptor_pb2.AdaptorLookupResponse:
        if request.level not in LEVELS:
            raise invalid_argument(f"lookupLevel must be BASIC or DETAILED, not {request.level[:40]!r}", {"level": "BASIC or DETAILED"})
        app = await self.served_app(request.app_id)
        if not app.active:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, f"app {app.name} is inactive")
        if request.level == "BASIC":
            return await self._basic(app, request)
        if not request.external_customer_id.strip():
            raise invalid_argument(
                "a DETAILED lookup needs query.externalCustomerId", {"external_customer_id": "name the record to look up"}
            )
        fetched = await self.lookups.fetch(app, "", request.external_customer_id.strip(), kind="adaptor_detailed")
        return adaptor_pb2.AdaptorLookupResponse(customer=fetched.customer, actions=await self._actions(app))

    async def _basic(self, app: App, request: adaptor_pb2.AdaptorLookupRequest) -> adaptor_pb2.AdaptorLookupResponse:
        allowed = set(app.searches_by)
        emails, phones = [], []
        for raw in request.emails if "email" in allowed else ():
            try:
                emails.append(normalize_email(raw))
            except InvalidContactPoint:
                continue
        for raw in request.phones if "phone" in allowed else ():
            try:
                phones.append(normalize_phone(raw, self.region))
            except InvalidContactPoint:
                continue
        if emails or phones:
            found, _ = await self.lookups.search(
                app, "", emails=list(dict.fromkeys(emails)), phones=list(dict.fromkeys(phones)), kind="adaptor_basic"
            )
            return adaptor_pb2.AdaptorLookupResponse(candidates=found.candidates)
        if request.external_customer_id.strip():
            fetched = await self.lookups.fetch(app, "", request.external_customer_id.strip(), kind="adaptor_basic")
            return adaptor_pb2.AdaptorLookupResponse(candidates=[summary_of(fetched.customer)])
        return adaptor_pb2.AdaptorLookupResponse()  # nothing this app searches by

    async def _actions(self, app: App) -> list[lookup_pb2.ActionSpec]:
        """The app's actions a DETAILED result offers (none when they are off, or when its
        connector cannot say: the lookup answers without them rather than fail)."""
        if not app.actions_enabled:
            return []
        try:
            describe = await self.apps.connectors.describe(app.type)
        except ServiceError as err:
            log.info("adaptor_actions_not_offered", app_id=app.id, reason=err.message)
            return []
        return list(describe.capabilities.actions)
