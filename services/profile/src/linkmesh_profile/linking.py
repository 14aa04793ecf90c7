"""Links between a customer and external customers: search, link, refresh, unlink."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument
from linkmesh_core.fanout import fan_out
from linkmesh_core.request_context import time_left
from linkmesh_core.singleflight import SingleFlight
from linkmesh_profile import checkpoints
from linkmesh_profile.apps import AppService, result_attributes
from linkmesh_profile.connectors import field_names
from linkmesh_profile.contact import normalized_query
from linkmesh_profile.customers import MAX_CONTACT_POINTS, require_customer
from linkmesh_profile.directory import order_keys
from linkmesh_profile.lookups import Fetched, Lookups
from linkmesh_profile.merge import contact_points, profile_update
from linkmesh_profile.refresh_leases import RefreshLeases, release, seen
from linkmesh_profile.store import Store, link_key, now
from linkmesh_profile.unlinking import LINKS_VERSION, unlink

LEASE_MARGIN_S = 2.0  # a refresh lease outlives its holder's deadline by this much


class LinkedMeanwhile(Exception):
    """A first link lost to a concurrent one (or the customer is gone)."""


@dataclass
class RefreshOutcome:
    refreshed: list[str] = field(default_factory=list)
    stale: list[profile_pb2.StaleApp] = field(default_factory=list)
    changed: bool = False


class Linker:
    def __init__(self, store: Store, apps: AppService, lookups: Lookups, region: str, freshness_s: float) -> None:
        self.store = store
        self.apps = apps
        self.lookups = lookups
        self.region = region
        self.freshness_s = freshness_s
        self._refreshes: SingleFlight[bool] = SingleFlight()
        self.leases = RefreshLeases(store)

    # search

    async def search_targets(self, customer_id: str, fields: set[str] | None = None,
                             customer: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        """Active apps the customer is not linked to; with ``fields`` (email, phone,
        order_number), those that can search by none of them are set aside with the reason."""
        if customer is None:
            customer = await require_customer(self.store, customer_id)
        linked = set((customer.get("links") or {}).keys())
        targets, skipped = [], []
        for app in await self.store.list_apps(active_only=True):
            if str(app["_id"]) in linked:
                continue
            if fields:
                can = {a["attribute"] for a in app.get("search_query_attributes", [])}
                if "order_number" in fields:
                    describe = await self.apps.connectors.describe(app["type"])
                    if "order_number" in field_names(list(describe.capabilities.search_fields)):
                        can.add("order_number")
                if not can & fields:
                    skipped.append((app, f"searches by {' or '.join(sorted(can))}, not by {' or '.join(sorted(fields))}"))
                    continue
            targets.append(app)
        return targets, skipped

    async def search(self, request: profile_pb2.SearchExternalRequest) -> profile_pb2.SearchExternalResponse:
        app = await self.apps.require(request.app_id)
        if not app.get("active", True):
            raise failed_precondition(f"app {app['name']} is inactive")
        return await self._search_app(app, request.customer_id, request.email, request.phone, request.order_number)

    async def search_all(self, request: profile_pb2.SearchAllExternalRequest) -> profile_pb2.SearchAllExternalResponse:
        """Every unlinked active app at once; each app's failure (or silence past the deadline)
        is its own entry, never the whole answer's."""
        customer = await require_customer(self.store, request.customer_id)
        normalized_query(request.email, request.phone, self.region)  # a bad query is the caller's, answered once
        fields = {name for name, value in (("email", request.email), ("phone", request.phone), ("order_number", request.order_number))
                  if value.strip()}
        targets, skipped = await self.search_targets(request.customer_id, fields, customer)

        def one(app: dict[str, Any]) -> Callable[[], Awaitable[profile_pb2.SearchExternalResponse]]:
            return lambda: self._search_app(app, request.customer_id, request.email, request.phone, request.order_number, customer)

        # Every app answers (or is cut off) in time for the answer to reach the caller.
        outcome = await fan_out({str(a["_id"]): one(a) for a in targets}, timeout=time_left(self.apps.connectors.timeout, margin=0.25),
                                peer="the connector")
        failures = []
        for app in targets:
            err = outcome.failures.get(str(app["_id"]))
            if err is not None:
                failures.append(profile_pb2.SearchFailure(
                    app_id=str(app["_id"]), app_name=app["name"], app_type=app["type"], code=err.code.name, message=err.message,
                    retry_after_s=err.retry_after, fields=err.fields))
        return profile_pb2.SearchAllExternalResponse(
            answers=[outcome.results[str(a["_id"])] for a in targets if str(a["_id"]) in outcome.results],
            failures=failures,
            skipped=[profile_pb2.SkippedApp(app_id=str(a["_id"]), app_name=a["name"], app_type=a["type"], reason=reason) for a, reason in skipped],
        )

    async def _search_app(self, app: dict[str, Any], customer_id: str, raw_email: str, raw_phone: str, raw_order_number: str,
                          customer: dict[str, Any] | None = None) -> profile_pb2.SearchExternalResponse:
        """One app's search; ``customer`` given: already read (else it is checked while the vendor is asked)."""
        allowed = {a["attribute"] for a in app.get("search_query_attributes", [])}
        email, phone = normalized_query(raw_email, raw_phone, self.region)
        emails = [email] if email else []
        phones = [phone] if phone else []
        checked = customer is not None
        if not emails and not phones and not raw_order_number.strip():
            if not customer_id:
                raise invalid_argument("give an email, a phone or an order number", {"email": "give an email, a phone or an order number"})
            if customer is None:
                customer = await require_customer(self.store, customer_id)
                checked = True
            emails, phones = list(customer.get("emails", [])), list(customer.get("phones", []))
        # Only the attributes this app is configured (or its connector is able) to search by.
        emails = emails if "email" in allowed else []
        phones = phones if "phone" in allowed else []
        order_number = raw_order_number.strip()
        if order_number:
            describe = await self.apps.connectors.describe(app["type"])
            if "order_number" not in field_names(list(describe.capabilities.search_fields)):
                order_number = ""
        if not emails and not phones and not order_number:
            raise invalid_argument(
                f"app {app['name']} searches by {' and '.join(sorted(allowed))} only",
                {"email" if "email" in allowed else "phone": f"this app searches by {' and '.join(sorted(allowed))}"},
            )
        # The customer must exist; that is checked while the vendor is asked (a search changes
        # nothing), so the database read is off the answer's path. A missing customer wins.
        exists = asyncio.ensure_future(require_customer(self.store, customer_id)) if customer_id and not checked else None
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
        return profile_pb2.SearchExternalResponse(
            app_id=str(app["_id"]), app_name=app["name"], app_type=app["type"],
            results=[
                profile_pb2.SearchResult(external_customer_id=c.external_id, attributes=result_attributes(app, c))
                for c in answer.candidates
            ],
        )

    # link

    async def link(self, customer_id: str, app_id: str, external_id: str) -> dict[str, Any]:
        """Manual link: DETAILED lookup, then one write. Allowed even after an unlink."""
        external_id = external_id.strip()
        if not external_id:
            raise invalid_argument("external_customer_id is required", {"external_customer_id": "is required"})
        customer = await require_customer(self.store, customer_id)
        app = await self.apps.require(app_id)
        if not app.get("active", True):
            raise failed_precondition(f"app {app['name']} is inactive")
        existing = (customer.get("links") or {}).get(app_id)
        if existing and existing.get("external_customer_id") != external_id:
            raise failed_precondition(
                f"customer is already linked to {app['name']} customer {existing['external_customer_id']}; unlink first"
            )
        other = await self.store.customer_with_link(app_id, external_id)
        if other is not None and other["_id"] != customer["_id"]:
            raise failed_precondition(f"{app['name']} customer {external_id} is already linked to customer {other['_id']}")
        return await self.store_link(customer, app, external_id, await self.lookups.fetch(app, customer_id, external_id, customer=customer))

    async def store_link(self, customer: dict[str, Any], app: dict[str, Any], external_id: str, fetched: Fetched,
                         *, first: bool = False, unique_check: bool = False, read_back: bool = True) -> dict[str, Any]:
        """Stores the link with its DETAILED data and merges the data into the profile, in one write.
        ``first`` (auto-link): only if the customer is linked to nothing of this app yet, so of
        concurrent attempts exactly one makes the link; the others get ``LinkedMeanwhile``.
        ``unique_check``: the app's emails and phones are written without looking up their
        owners first, and a ``DuplicateKeyError`` (of a link key, email or phone) is raised.
        Without ``read_back`` the profile is not read again (``{}``)."""
        app_id = str(app["_id"])
        data = fetched.customer
        stamp = now()
        previous = (customer.get("links") or {}).get(app_id) or {}
        link = {
            "external_customer_id": external_id, "app_type": app["type"], "linked_at": previous.get("linked_at") or stamp,
            "refreshed_at": stamp, "data": fetched.doc, "stale": None,
        }
        set_, unset = profile_update(customer, app_id, bool(app.get("overwrite_existing_values")), data)
        update: dict[str, Any] = {"$set": {**set_, f"links.{app_id}": link, "updated_at": stamp},
                                  "$addToSet": {"link_keys": link_key(app_id, external_id),
                                                "order_keys": {"$each": order_keys(app_id, fetched.doc)}}}
        if unset:
            update["$unset"] = unset
        update["$inc"] = {LINKS_VERSION: 1}
        # Linked to nothing else of this app since we looked (to nothing at all, for a first link);
        # an auto-link also only if no agent unlinked the app meanwhile (never again after an unlink).
        condition: dict[str, Any] = {f"links.{app_id}.external_customer_id": None if first else {"$in": [None, external_id]}}
        if first:
            condition["unlinked_apps"] = {"$ne": app_id}
        await checkpoints.reached("link.before_write")
        try:
            updated = await self._write_with_contact_points(customer, data, update, condition, look_up_owners=not unique_check,
                                                            read_back=read_back)
        except DuplicateKeyError:
            if unique_check:
                raise
            raise failed_precondition(f"{app['name']} customer {external_id} is already linked to another customer") from None
        if updated is None:
            if first:
                raise LinkedMeanwhile(f"customer {customer['_id']} was linked to {app['name']} meanwhile")
            raise failed_precondition(f"customer {customer['_id']} was linked to {app['name']} meanwhile; reload and retry")
        return updated

    async def _write_with_contact_points(self, customer: dict[str, Any], data: lookup_pb2.Customer, update: dict[str, Any],
                                         condition: dict[str, Any], *, look_up_owners: bool = True,
                                         read_back: bool = True) -> dict[str, Any] | None:
        """Adds the app's emails and phones that no other customer owns, along with ``update``.
        Without ``look_up_owners`` a duplicate email or phone is the caller's to handle."""
        emails, phones = contact_points(data, self.region)
        emails = [e for e in emails if e not in customer.get("emails", [])]
        phones = [p for p in phones if p not in customer.get("phones", [])]
        if look_up_owners:
            owned = await self.store.owners_of(emails, phones, customer["_id"])
            taken = {e for o in owned for e in o.get("emails", [])} | {p for o in owned for p in o.get("phones", [])}
            emails = [e for e in emails if e not in taken]
            phones = [p for p in phones if p not in taken]
        # Never past what the API allows a profile to hold.
        emails = emails[:max(0, MAX_CONTACT_POINTS - len(customer.get("emails", [])))]
        phones = phones[:max(0, MAX_CONTACT_POINTS - len(customer.get("phones", [])))]
        if emails or phones:
            with_points = {**update, "$addToSet": {**update.get("$addToSet", {}), "emails": {"$each": emails}, "phones": {"$each": phones}}}
            try:
                return await self.store.update_customer(str(customer["_id"]), with_points, condition, read_back=read_back)
            except DuplicateKeyError as err:
                if not look_up_owners or not set((err.details or {}).get("keyPattern", {})) & {"emails", "phones"}:
                    raise
                # Another customer took one of them meanwhile: write without them.
        return await self.store.update_customer(str(customer["_id"]), update, condition, read_back=read_back)

    # refresh

    async def refresh(self, customer: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()) -> RefreshOutcome:
        """Fetches every linked active app again (but those in ``skip``, just linked), in
        parallel, from ``customer`` as the caller just read it; one failing app never fails
        the profile. ``changed`` says whether anything was written. The refresh leases of every
        app due are taken in one write (``refresh_leases``)."""
        customer_id = str(customer["_id"])
        links = customer.get("links") or {}
        apps = {a_id: await self.store.get_app(a_id) for a_id in links if a_id not in skip}
        targets = {a_id: app for a_id, app in apps.items() if app is not None and app.get("active", True)}
        # The leases of every app due and not already being refreshed by this process are taken
        # together; the refreshes start before anything is awaited, so no other caller here
        # can start one of them meanwhile (and wait on a lease this caller holds).
        together = [a_id for a_id in targets if self._due(links[a_id]) and (customer_id, a_id, False) not in self._refreshes]
        leased = asyncio.ensure_future(self.leases.take(customer_id, together, self._lease_s())) if together else None
        flights = [self._refreshes.start((customer_id, app_id, False),
                                         functools.partial(self._refresh_app, customer_id, app, False, customer,
                                                           leased if app_id in together else None))[0]
                   for app_id, app in targets.items()]
        outcome = RefreshOutcome()
        results = await asyncio.gather(*(asyncio.shield(f) for f in flights), return_exceptions=True)
        for app_id, result in zip(targets, results, strict=True):
            if isinstance(result, ServiceError):
                outcome.stale.append(profile_pb2.StaleApp(app_id=app_id, code=result.code.name, message=result.message))
                outcome.changed = True
            elif isinstance(result, BaseException):
                raise result
            else:
                outcome.refreshed.append(app_id)
                outcome.changed = outcome.changed or bool(result)
        return outcome

    def _due(self, link: dict[str, Any]) -> bool:
        refreshed_at = link.get("refreshed_at")
        return bool(link.get("stale")) or refreshed_at is None or now() - refreshed_at >= timedelta(seconds=self.freshness_s)

    def _lease_s(self) -> float:
        return time_left(self.apps.connectors.timeout) + LEASE_MARGIN_S

    async def refresh_app(self, customer_id: str, app: dict[str, Any], *, force: bool = False,
                          customer: dict[str, Any] | None = None) -> bool:
        """One refresh per customer and app at a time; concurrent callers share it.
        ``force`` (after an action) fetches even within the freshness window; ``customer``
        is the profile as the caller just read it (else it is read). Answers whether it wrote."""
        written, _ = await self._refreshes.run((customer_id, str(app["_id"]), force),
                                               lambda: self._refresh_app(customer_id, app, force, customer))
        return written

    async def _refresh_app(self, customer_id: str, app: dict[str, Any], force: bool = False,
                           customer: dict[str, Any] | None = None,
                           leased: asyncio.Future[dict[str, Any] | None] | None = None) -> bool:
        """``leased``: the taking of this app's lease with others' (the profile as it is under
        them, or None when one of them is held elsewhere)."""
        app_id = str(app["_id"])
        if customer is None:
            customer = await require_customer(self.store, customer_id)
        link = (customer.get("links") or {}).get(app_id)
        if link is None:
            return False
        if not force and not self._due(link):
            return False  # fresh enough: served without calling the vendor
        if force:  # after an action: must read what the action did, so it never follows another refresh
            return await self._fetch_and_write(customer_id, app, customer, link)
        under = await self._lead_or_follow(customer_id, app_id, link, await leased if leased is not None else None)
        if under is None:
            return True  # another replica refreshed it: the caller reads what it wrote
        wrote = False
        try:
            wrote = await self._fetch_and_write(customer_id, app, under, under["links"][app_id])
            return wrote
        except ServiceError:
            wrote = True  # the stale mark let the lease go
            raise
        finally:
            if not wrote:
                await self.leases.release(customer_id, [app_id])

    async def _lead_or_follow(self, customer_id: str, app_id: str, link: dict[str, Any],
                              leased: dict[str, Any] | None) -> dict[str, Any] | None:
        """The profile as read under this customer's and app's refresh lease, held (taken
        with the others' in ``leased``, else now, or after its holder let go); or None once
        another replica has written the app's data since ``link`` was read. A refresh that
        failed there fails here the same way."""
        before = seen(link)
        while True:
            held = leased if leased is not None else await self.leases.take(customer_id, [app_id], self._lease_s())
            leased = None
            if held is not None:
                # Read under the lease: a refresh that ended between the caller's read and the
                # lease is not repeated.
                now_link = (held.get("links") or {}).get(app_id)
                if seen(now_link) == before:
                    return held
                await self.leases.release(customer_id, [app_id])
                return self._done_meanwhile(now_link, before)
            after = await self.leases.follow(customer_id, app_id, before, time_left(self.apps.connectors.timeout))
            if after is not None:
                return self._done_meanwhile((after.get("links") or {}).get(app_id), before)
            # Its holder let go without writing, or its time ran out: take it over.

    @staticmethod
    def _done_meanwhile(now_link: dict[str, Any] | None, before: tuple[Any, Any, Any]) -> None:
        """Another replica wrote the app's data (None: serve it), or marked it stale (raise it)."""
        if now_link is not None and seen(now_link)[:2] == before[:2]:
            stale = now_link.get("stale") or {}
            raise ServiceError(grpc.StatusCode[stale.get("code", "UNAVAILABLE")], stale.get("message", ""))
        return None

    async def _fetch_and_write(self, customer_id: str, app: dict[str, Any], customer: dict[str, Any], link: dict[str, Any]) -> bool:
        """Fetches the app's data and writes it (or the failure, as a stale mark), letting the
        app's refresh lease go in the same write."""
        app_id = str(app["_id"])
        external_id = link["external_customer_id"]
        try:
            fetched = await self.lookups.fetch(app, customer_id, external_id, kind="refresh", customer=customer)
        except ServiceError as err:
            stale = {"code": err.code.name, "message": err.message, "since": (link.get("stale") or {}).get("since") or now(), "at": now()}
            await self.store.change_customer(customer_id, {"$set": {f"links.{app_id}.stale": stale}, "$unset": release(app_id)},
                                             {f"links.{app_id}.external_customer_id": external_id})
            raise
        data = fetched.customer
        set_, unset = profile_update(customer, app_id, bool(app.get("overwrite_existing_values")), data)
        stamp = now()
        update: dict[str, Any] = {"$set": {**set_, f"links.{app_id}.data": fetched.doc, f"links.{app_id}.refreshed_at": stamp,
                                           f"links.{app_id}.stale": None, "updated_at": stamp},
                                  "$unset": {**unset, **release(app_id)},
                                  # Orders an app stops showing (older than its window) stay findable.
                                  "$addToSet": {"order_keys": {"$each": order_keys(app_id, fetched.doc)}}}
        update["$inc"] = {LINKS_VERSION: 1}  # what an unlink read of the app's pulled data is no longer all of it
        await checkpoints.reached("refresh.before_write")
        # Only if still linked to the same external customer (an unlink may have won the race).
        await self._write_with_contact_points(customer, data, update, {f"links.{app_id}.external_customer_id": external_id}, read_back=False)
        return True

    # unlink (unlinking.py)

    async def unlink_all(self, customer_id: str) -> dict[str, Any]:
        """Unlinks every system (Gladly's rule) and removes what they put on the profile."""
        return await unlink(self.store, customer_id, None)

    async def unlink_app(self, customer_id: str, app_id: str) -> dict[str, Any]:
        """Unlinks one system, which never auto-links this customer again."""
        return await unlink(self.store, customer_id, app_id)
