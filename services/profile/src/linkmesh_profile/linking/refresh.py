"""Refresh: linked systems read again when their data is older than the freshness window, one replica at a time."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import grpc
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_core.request_context import time_left
from linkmesh_core.singleflight import SingleFlight
from linkmesh_profile.connectors.lookups import known_data
from linkmesh_profile.customers.profiles import require_customer
from linkmesh_profile.db.refresh_leases import RefreshLeases, Seen, seen
from linkmesh_profile.db.search_keys import order_keys
from linkmesh_profile.db.store import LINKS_VERSION, Store, now
from linkmesh_profile.linking import checkpoints
from linkmesh_profile.linking.merge import profile_update
from linkmesh_profile.model.customer import Stale

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.connectors.lookups import Lookups
    from linkmesh_profile.linking.link import Links
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer, Link

LEASE_MARGIN_S = 2.0  # a refresh lease outlives its holder's deadline by this much


@dataclass
class RefreshOutcome:
    refreshed: list[str] = field(default_factory=list)
    stale: list[profile_pb2.StaleApp] = field(default_factory=list)
    changed: bool = False


class Refresher:
    def __init__(
        self, store: Store, apps: AppService, lookups: Lookups, links: Links, freshness_s: float, events_freshness_s: float = 0.0
    ) -> None:
        self.store = store
        self.wrote: Callable[[str], None] = lambda customer_id: None  # told after each write (the open profiles' watch)
        self.apps = apps
        self.lookups = lookups
        self.links = links
        self.freshness_s = freshness_s
        # Data an app's change events keep fresh (its subscription active) is read again only
        # after this long (or when an event says it changed); the reconciliation sweep reads
        # what events missed.
        self.events_freshness_s = max(events_freshness_s, freshness_s)
        self._refreshes: SingleFlight[bool] = SingleFlight()
        self.leases = RefreshLeases(store)

    async def refresh(self, customer: Customer, skip: set[str] | frozenset[str] = frozenset()) -> RefreshOutcome:
        """Fetches every linked active app again (but those in ``skip``, just linked), in
        parallel, from ``customer`` as the caller just read it; one failing app never fails
        the profile. ``changed`` says whether anything was written. The refresh leases of every
        app due are taken in one write (``refresh_leases``)."""
        customer_id = customer.id
        links = customer.links
        apps = {a_id: await self.store.get_app(a_id) for a_id in links if a_id not in skip}
        targets = {a_id: app for a_id, app in apps.items() if app is not None and app.active}
        # The leases of every app due and not already being refreshed by this process are taken
        # together; the refreshes start before anything is awaited, so no other caller here
        # can start one of them meanwhile (and wait on a lease this caller holds).
        together = [
            a_id for a_id, app in targets.items() if self._due(links[a_id], app) and (customer_id, a_id, False) not in self._refreshes
        ]
        leased = asyncio.ensure_future(self.leases.take(customer_id, together, self._lease_s(), as_read=customer)) if together else None
        flights = [
            self._refreshes.start(
                (customer_id, app_id, False),
                functools.partial(self._refresh_app, customer_id, app, False, customer, leased if app_id in together else None),
            )[0]
            for app_id, app in targets.items()
        ]
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

    def _due(self, link: Link, app: App) -> bool:
        refreshed_at = link.refreshed_at
        window = self.events_freshness_s if app.kept_fresh_by_events else self.freshness_s
        return link.stale is not None or refreshed_at is None or now() - refreshed_at >= timedelta(seconds=window)

    def _lease_s(self) -> float:
        return time_left(self.apps.connectors.timeout) + LEASE_MARGIN_S

    async def refresh_app(self, customer_id: str, app: App, *, force: bool = False, customer: Customer | None = None) -> bool:
        """One refresh per customer and app at a time; concurrent callers share it.
        ``force`` (after an action) fetches even within the freshness window; ``customer``
        is the profile as the caller just read it (else it is read). Answers whether it wrote."""
        written, _ = await self._refreshes.run((customer_id, app.id, force), lambda: self._refresh_app(customer_id, app, force, customer))
        return written

    async def _refresh_app(
        self,
        customer_id: str,
        app: App,
        force: bool = False,
        customer: Customer | None = None,
        leased: asyncio.Future[Customer | None] | None = None,
    ) -> bool:
        """``leased``: the taking of this app's lease with others' (the profile as it is under
        them, or None when one of them is held elsewhere)."""
        app_id = app.id
        if customer is None:
            customer = await require_customer(self.store, customer_id)
        link = customer.links.get(app_id)
        if link is None:
            return False
        if not force and not self._due(link, app):
            return False  # fresh enough: served without calling the vendor
        if force:  # after an action: must read what the action did, so it never follows another refresh
            return await self._fetch_and_write(customer_id, app, customer, link)
        under = await self._lead_or_follow(customer_id, customer, app_id, await leased if leased is not None else None)
        if under is None:
            return True  # another replica refreshed it: the caller reads what it wrote
        wrote = False
        try:
            wrote = await self._fetch_and_write(customer_id, app, under, under.links[app_id])
            return wrote
        except ServiceError:
            wrote = True  # the stale mark let the lease go
            raise
        finally:
            if not wrote:
                await self.leases.release(customer_id, [app_id], under)

    async def _lead_or_follow(self, customer_id: str, customer: Customer, app_id: str, leased: Customer | None) -> Customer | None:
        """The profile under this customer's and app's refresh lease, held (taken with the
        others' in ``leased``, else now, or after its holder let go): ``customer`` as read
        when the app's link is unchanged since; or None once another replica has written the
        app's data since ``customer`` was read. A refresh that failed there fails here the same way."""
        before = seen(customer.links.get(app_id))
        as_read: Customer | None = customer
        while True:
            held = leased if leased is not None else await self.leases.take(customer_id, [app_id], self._lease_s(), as_read=as_read)
            leased = as_read = None
            if held is not None:
                # As it is under the lease: a refresh that ended between the caller's read and
                # the lease is not repeated.
                now_link = held.links.get(app_id)
                if seen(now_link) == before:
                    return held
                await self.leases.release(customer_id, [app_id], held)
                return self._done_meanwhile(now_link, before)
            after = await self.leases.follow(customer_id, app_id, before, time_left(self.apps.connectors.timeout))
            if after is not None:
                return self._done_meanwhile(after.link, before)
            # Its holder let go without writing, or its time ran out: take it over.

    @staticmethod
    def _done_meanwhile(now_link: Link | None, before: Seen) -> None:
        """Another replica wrote the app's data (None: serve it), or marked it stale (raise it)."""
        if now_link is not None and now_link.stale is not None and seen(now_link)[:2] == before[:2]:
            raise ServiceError(grpc.StatusCode[now_link.stale.code], now_link.stale.message)
        return None

    async def _fetch_and_write(self, customer_id: str, app: App, customer: Customer, link: Link) -> bool:
        """Fetches the app's data and writes it (or the failure, as a stale mark): the link's
        new state frees the app's refresh lease (``refresh_leases``)."""
        app_id = app.id
        external_id = link.external_customer_id
        try:
            fetched = await self.lookups.fetch(
                app, customer_id, external_id, kind="refresh", customer=customer, known=known_data(link.data)
            )
        except ServiceError as err:
            since = link.stale.since if link.stale is not None and link.stale.since is not None else now()
            stale = Stale(err.code.name, err.message, since, now()).to_doc()
            await self.store.change_customer(
                customer_id,
                {"$set": {f"links.{app_id}.stale": stale, "updated_at": now()}},
                {f"links.{app_id}.external_customer_id": external_id},
            )
            raise
        data = fetched.customer
        set_, unset = profile_update(customer, app_id, app.overwrite_existing_values, data)
        stamp = now()
        update: dict[str, Any] = {
            "$set": {
                **set_,
                f"links.{app_id}.data": fetched.doc,
                f"links.{app_id}.refreshed_at": stamp,
                f"links.{app_id}.stale": None,
                "updated_at": stamp,
            },
            # Orders an app stops showing (older than its window) stay findable.
            "$addToSet": {"order_keys": {"$each": order_keys(app_id, fetched.doc)}},
            "$inc": {LINKS_VERSION: 1},  # what an unlink read of the app's pulled data is no longer all of it
        }
        if unset:
            update["$unset"] = unset
        await checkpoints.reached("refresh.before_write")
        # Only if still linked to the same external customer (an unlink may have won the race).
        await self.links.write_with_contact_points(customer, data, update, {f"links.{app_id}.external_customer_id": external_id})
        self.wrote(customer_id)
        return True
