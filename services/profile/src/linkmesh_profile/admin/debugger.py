"""The lookup debugger's dry run: what a lookup would send, get and decide,
without changing any profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_profile.customers.contact_query import normalized_query
from linkmesh_profile.db.traces import trace_to_proto
from linkmesh_profile.model.customer import Customer

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.connectors.lookups import Lookups
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.linking.autolink import AutoLinker
    from linkmesh_profile.model.app import App

WORKFLOWS = ("autolink", "basic")


class Debugger:
    def __init__(self, store: Store, apps: AppService, lookups: Lookups, autolinker: AutoLinker, region: str) -> None:
        self.store = store
        self.apps = apps
        self.lookups = lookups
        self.autolinker = autolinker
        self.region = region

    async def run(self, request: profile_pb2.DebugLookupRequest) -> profile_pb2.DebugLookupResponse:
        errors = {}
        if request.workflow not in WORKFLOWS:
            errors["workflow"] = f"must be one of: {', '.join(WORKFLOWS)}"
        if not request.email.strip() and not request.phone.strip():
            errors["email"] = "give an email or a phone"
        if errors:
            raise invalid_argument("the lookup is invalid", errors)
        email, phone = normalized_query(request.email, request.phone, self.region)
        app = await self.apps.require(request.app_id)
        if request.workflow == "basic":
            return await self._basic(app, email, phone)
        return await self._autolink(app, email, phone)

    async def _basic(self, app: App, email: str | None, phone: str | None) -> profile_pb2.DebugLookupResponse:
        allowed = set(app.searches_by)
        emails = [email] if email and "email" in allowed else []
        phones = [phone] if phone and "phone" in allowed else []
        if not emails and not phones:
            raise invalid_argument(
                f"app {app.name} searches by {' and '.join(sorted(allowed))} only",
                {"email" if "email" in allowed else "phone": "not searched by this app"},
            )
        steps: list[dict[str, Any]] = []
        try:
            answer, trace = await self.lookups.search(app, "", emails=emails, phones=phones, dry_run=True)
            steps.append(trace)
            reason = f"basic lookup: {len(answer.candidates)} external profile(s) answered; a basic lookup never links"
        except ServiceError as err:
            steps.append(self._failed_step("search", err))
            reason = f"the search failed ({err.code.name}): {err.message}"
        return profile_pb2.DebugLookupResponse(steps=[trace_to_proto(s) for s in steps], would_link=False, reason=reason)

    async def _autolink(self, app: App, email: str | None, phone: str | None) -> profile_pb2.DebugLookupResponse:
        existing = await self.store.find_customers(email, phone)
        customer = existing[0] if existing else Customer.unsaved([email] if email else [], [phone] if phone else [])
        decision = await self.autolinker.evaluate(customer, app, dry_run=True)
        steps = list(decision.steps)
        if decision.would_link:
            try:
                fetched = await self.lookups.fetch(
                    app, customer.id, decision.external_id, kind="autolink_fetch", dry_run=True, customer=customer
                )
                steps.append(fetched.trace)
            except ServiceError as err:
                steps.append(self._failed_step("autolink_fetch", err))
                decision.outcome, decision.reason = "not_linked", f"the DETAILED lookup would fail: {err.message}"
        steps.append(
            {
                "app_id": app.id,
                "customer_id": customer.id,
                "kind": "autolink",
                "code": "OK",
                "decision": decision.outcome,
                "reason": decision.reason,
                "dry_run": True,
                "request": {},
                "response": None,
            }
        )
        return profile_pb2.DebugLookupResponse(
            steps=[trace_to_proto(s) for s in steps],
            would_link=decision.would_link,
            reason=decision.reason,
            external_customer_id=decision.external_id,
        )

    @staticmethod
    def _failed_step(kind: str, err: ServiceError) -> dict[str, Any]:
        trace = err.trace
        return trace or {
            "app_id": "",
            "kind": kind,
            "code": err.code.name,
            "message": err.message,
            "dry_run": True,
            "request": {},
            "response": None,
        }
