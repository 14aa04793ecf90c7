"""Search: one system, or every active system the customer is not linked to yet, at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.contact_points import email_key, phone_key
from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument
from linkmesh_core.fanout import fan_out
from linkmesh_core.request_context import time_left
from linkmesh_profile.admin.apps import AppService, result_attributes
from linkmesh_profile.connectors.registry import field_names
from linkmesh_profile.customers.contact_query import normalized_query
from linkmesh_profile.customers.profiles import require_listing
from linkmesh_profile.db import listings
from linkmesh_profile.db.store import link_key

if TYPE_CHECKING:
    from linkmesh.lookup.v1 import lookup_pb2

    from linkmesh_profile.connectors.lookups import Lookups
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Listing


def matched_field(c: lookup_pb2.CustomerSummary, emails: list[str], phones: list[str], order_number: str, region: str) -> str:
    """Which field of the search the candidate matched (the order number when neither contact point did)."""
    if any(email_key(e) in emails for e in c.emails):
        return "email"
    if any(phone_key(p.number, region) in phones for p in c.phones):
        return "phone"
    return "order_number" if order_number else ""


class Search:
    def __init__(self, store: Store, apps: AppService, lookups: Lookups, region: str) -> None:
        self.store = store
        self.apps = apps
        self.lookups = lookups
        self.region = region

    async def search_targets(
        self, customer_id: str, fields: set[str] | None = None, customer: Listing | None = None
    ) -> tuple[list[App], list[tuple[App, str]]]:
        """Active apps the customer is not linked to; with ``fields`` (email, phone,
        order_number), those that can search by none of them are set aside with the reason."""
        if customer is None:
            customer = await require_listing(self.store, customer_id)
        linked = set(customer.linked_app_ids)
        targets: list[App] = []
        skipped: list[tuple[App, str]] = []
        for app in await self.store.list_apps(active_only=True):
            if app.id in linked:
                continue
            if fields:
                can = set(app.searches_by)
                if "order_number" in fields:
                    describe = await self.apps.connectors.describe(app.type)
                    if "order_number" in field_names(list(describe.capabilities.search_fields)):
                        can.add("order_number")
                if not can & fields:
                    skipped.append((app, f"searches by {' or '.join(sorted(can))}, not by {' or '.join(sorted(fields))}"))
                    continue
            targets.append(app)
        return targets, skipped

    async def search(self, request: profile_pb2.SearchExternalRequest) -> profile_pb2.SearchExternalResponse:
        app = await self.apps.require(request.app_id)
        if not app.active:
            raise failed_precondition(f"app {app.name} is inactive")
        return await self._search_app(app, request.customer_id, request.email, request.phone, request.order_number)

    async def search_all(self, request: profile_pb2.SearchAllExternalRequest) -> profile_pb2.SearchAllExternalResponse:
        """Every unlinked active app at once; each app's failure (or silence past the deadline)
        is its own entry, never the whole answer's. The customer is read as listed: a search
        needs its links' apps and contact points, not the data they pulled."""
        customer = await require_listing(self.store, request.customer_id)
        normalized_query(request.email, request.phone, self.region)  # a bad query is the caller's, answered once
        fields = {
            name
            for name, value in (("email", request.email), ("phone", request.phone), ("order_number", request.order_number))
            if value.strip()
        }
        targets, skipped = await self.search_targets(request.customer_id, fields, customer)

        def one(app: App) -> Callable[[], Awaitable[profile_pb2.SearchExternalResponse]]:
            return lambda: self._search_app(
                app, request.customer_id, request.email, request.phone, request.order_number, customer, mark=False
            )

        # Every app answers (or is cut off) in time for the answer to reach the caller.
        outcome = await fan_out(
            {a.id: one(a) for a in targets}, timeout=time_left(self.apps.connectors.timeout, margin=0.25), peer="the connector"
        )
        failures = []
        for app in targets:
            err = outcome.failures.get(app.id)
            if err is not None:
                failures.append(
                    profile_pb2.SearchFailure(
                        app_id=app.id,
                        app_name=app.name,
                        app_type=app.type,
                        code=err.code.name,
                        message=err.message,
                        retry_after_s=err.retry_after,
                        fields=err.fields,
                    )
                )
        answers = [outcome.results[a.id] for a in targets if a.id in outcome.results]
        await self.mark_held(request.customer_id, answers)
        return profile_pb2.SearchAllExternalResponse(
            answers=answers,
            failures=failures,
            skipped=[profile_pb2.SkippedApp(app_id=a.id, app_name=a.name, app_type=a.type, reason=reason) for a, reason in skipped],
        )

    async def _search_app(
        self,
        app: App,
        customer_id: str,
        raw_email: str,
        raw_phone: str,
        raw_order_number: str,
        customer: Listing | None = None,
        *,
        mark: bool = True,
    ) -> profile_pb2.SearchExternalResponse:
        """One app's search; ``customer`` given: already read (else it is checked while the vendor is asked)."""
        allowed = set(app.searches_by)
        email, phone = normalized_query(raw_email, raw_phone, self.region)
        emails = [email] if email else []
        phones = [phone] if phone else []
        checked = customer is not None
        if not emails and not phones and not raw_order_number.strip():
            if not customer_id:
                raise invalid_argument("give an email, a phone or an order number", {"email": "give an email, a phone or an order number"})
            if customer is None:
                customer = await require_listing(self.store, customer_id)
                checked = True
            emails, phones = list(customer.emails), list(customer.phones)
        # Only the attributes this app is configured (or its connector is able) to search by.
        emails = emails if "email" in allowed else []
        phones = phones if "phone" in allowed else []
        order_number = raw_order_number.strip()
        if order_number:
            describe = await self.apps.connectors.describe(app.type)
            if "order_number" not in field_names(list(describe.capabilities.search_fields)):
                order_number = ""
        if not emails and not phones and not order_number:
            raise invalid_argument(
                f"app {app.name} searches by {' and '.join(sorted(allowed))} only",
                {"email" if "email" in allowed else "phone": f"this app searches by {' and '.join(sorted(allowed))}"},
            )
        answer = await self._ask(app, customer_id, emails, phones, order_number, checked)
        results = [
            profile_pb2.SearchResult(
                external_customer_id=c.external_id,
                attributes=result_attributes(app, c),
                matched=matched_field(c, emails, phones, order_number, self.region),
            )
            for c in answer.candidates
        ]
        found = profile_pb2.SearchExternalResponse(app_id=app.id, app_name=app.name, app_type=app.type, results=results)
        if mark:
            await self.mark_held(customer_id, [found])
        return found

    async def _ask(
        self, app: App, customer_id: str, emails: list[str], phones: list[str], order_number: str, checked: bool
    ) -> lookup_pb2.SearchResponse:
        """The app's answer. The customer must exist; unless ``checked`` already, that is checked
        while the vendor is asked (a search changes nothing), so the database read is off the
        answer's path. A missing customer wins."""
        exists = asyncio.ensure_future(require_listing(self.store, customer_id)) if customer_id and not checked else None
        try:
            answer, _ = await self.lookups.search(app, customer_id, emails=emails, phones=phones, order_number=order_number)
        except asyncio.CancelledError:
            if exists is not None:
                exists.cancel()
            raise
        except ServiceError:
            if exists is not None:
                await exists
            raise
        if exists is not None:
            await exists
        return answer

    async def mark_held(self, customer_id: str, answers: list[profile_pb2.SearchExternalResponse]) -> None:
        """Marks each result another customer already holds (``linked_to``), in one indexed read
        for every app's results: an agent sees who before trying to link it."""
        keys = [link_key(a.app_id, r.external_customer_id) for a in answers for r in a.results]
        holders = await listings.holders_of_links(self.store, keys)
        for a in answers:
            for r in a.results:
                holder = holders.get(link_key(a.app_id, r.external_customer_id))
                if holder is not None and holder.id != customer_id:
                    r.linked_to.CopyFrom(profile_pb2.LinkedElsewhere(customer_id=holder.id, customer_name=holder.name))
