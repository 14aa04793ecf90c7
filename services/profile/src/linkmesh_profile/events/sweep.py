"""The reconciliation sweep: what the vendors' change events missed (a vendor does not promise
every delivery; BigCommerce turns a hook off after its deliveries failed for long).

Every ``interval_s`` one replica per app (a lease on the app's cursor in ``meta``) asks the
app's connector what changed since the last sweep (``ListChanges``: the vendor's own "updated
since" filter, oldest first), at most ``max_pages`` pages of ``page`` records, so a sweep stays
within the vendor's budget; what it could not read the next sweep reads on from where it
stopped. Of what changed, only what a customer links (its customer's link key, else its order's
key; one indexed read a page) goes to the inbox, as a change event the consumer applies like a
delivered one: an event already delivered is the same event (its id is the record and its
time), and data read after the change is not read again. The app's subscriptions are asked for
again in the same round: one the vendor dropped is registered again, and said; not when the read
found the vendor away (down, its circuit open, out of budget), so an outage asks nothing more of
it and leaves the subscriptions as they were last seen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2
from prometheus_client import Counter
from pymongo.errors import PyMongoError

from linkmesh_core.errors import ServiceError
from linkmesh_profile.db import listings
from linkmesh_profile.db.documents import ts
from linkmesh_profile.db.search_keys import ORDER_SEPARATOR, order_number
from linkmesh_profile.db.store import link_key, now
from linkmesh_profile.db.sweeps import Cursor, SweepCursors

if TYPE_CHECKING:
    from collections.abc import Callable

    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.inbox import Inbox
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.events.subscriptions import Subscriptions
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.events")
SWEPT = Counter("linkmesh_sweep_changes_total", "Records the reconciliation sweep read, by what became of them", ["outcome"])
#: The read found the vendor away: not answering (or its circuit open: nothing was sent) or out of
#: budget. Its hooks are not asked for in the same round: that call would fail too, spend what
#: budget is left and mark subscriptions that still stand as failed.
AWAY = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED})
OVERLAP = timedelta(minutes=1)  # vendors' clocks and their indexes lag a little: read a minute back


@dataclass
class Swept:
    offered: bool = True
    read: int = 0
    kept: int = 0
    pages: int = 0
    complete: bool = False
    restored: int = 0
    error: str = ""

    def doc(self, at: datetime) -> dict[str, Any]:
        return {"at": at, **self.__dict__}


class Sweeper:
    def __init__(
        self,
        store: Store,
        apps: AppService,
        inbox: Inbox,
        subscriptions: Subscriptions,
        wake: Callable[[], None],
        interval_s: float = 900.0,
        max_pages: int = 4,
        page: int = 250,
    ) -> None:
        self.store = store
        self.apps = apps
        self.inbox = inbox
        self.subscriptions = subscriptions
        self.wake = wake
        self.interval_s = interval_s
        self.max_pages = max_pages
        self.page = page
        self.cursors = SweepCursors(store)

    async def run_forever(self, every_s: float = 60.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.sweep_due()
            except PyMongoError as exc:  # the database is away: the next round tries again
                log.warning("sweep_paused", error_type=type(exc).__name__)
            except Exception:
                log.exception("sweep_failed")

    async def sweep_due(self) -> int:
        """Sweeps every active app whose turn it is and no other replica sweeps; answers how many."""
        done = 0
        for app in await self.store.list_apps():
            if app.active and (cursor := await self.cursors.take(app.id, now())) is not None:
                if cursor.since is None and await self._started_new(app):
                    continue
                await self.sweep(app, cursor)
                done += 1
        return done

    async def _started_new(self, app: App) -> bool:
        """An app never swept, made less than an interval ago, is first swept an interval after it
        was made, from then: nothing linked it before, its links read the vendor when made, and
        it has just been subscribed. Answers whether it was (its cursor set and let go)."""
        made = app.created_at
        if made is None or now() - made >= timedelta(seconds=self.interval_s):
            return False
        await self.cursors.settle(app.id, Cursor(made - OVERLAP), None, made, self.interval_s)
        return True

    async def sweep(self, app: App, cursor: Cursor) -> Swept:
        """One sweep of the app (its cursor leased by the caller); the cursor moves on and is let go.
        A sweep that read everything starts the next a minute before it began (vendors' clocks
        and indexes lag); one that ran out of budget leaves the next its page to read on from."""
        started = now()
        since = cursor.since or started - timedelta(seconds=self.interval_s)
        report, left, away = Swept(), cursor.page_token, False
        try:
            left = await self._read(app, since, cursor.page_token, report)
        except ServiceError as err:
            report.offered = err.code != grpc.StatusCode.UNIMPLEMENTED
            report.error = "" if not report.offered else f"{err.code.name}: {err.message}"
            away = err.code in AWAY
        if not away:  # a vendor down or out of budget (its circuit open) is asked for its hooks next round
            report.restored = await self._resubscribe(app)
        after = Cursor(started - OVERLAP, "") if report.complete else Cursor(since, left)
        await self.cursors.settle(app.id, after, report.doc(started), started, self.interval_s)
        if report.kept:
            self.wake()
        log.info("sweep", app_id=app.id, **{k: v for k, v in report.__dict__.items() if v})
        return report

    async def _read(self, app: App, since: datetime, token: str, report: Swept) -> str:
        """Reads what changed, page by page up to the budget; answers the page it stopped before."""
        for _ in range(self.max_pages):
            request = lookup_pb2.ListChangesRequest(app=self.apps.context(app), since=ts(since), page_token=token, limit=self.page)
            answer = await self.apps.connectors.list_changes(app, request)
            report.pages += 1
            report.read += len(answer.changes)
            for change in await self._linked(app, list(answer.changes)):
                if await self.inbox.keep(app.id, change, now()):
                    report.kept += 1
            token = answer.next_page_token
            if not token:
                report.complete = True
                break
        SWEPT.labels("kept").inc(report.kept)
        SWEPT.labels("not_linked").inc(report.read - report.kept)
        return token

    async def _linked(self, app: App, changes: list[lookup_pb2.Change]) -> list[lookup_pb2.Change]:
        """The changes a customer links: by the customer's link key, else the order's key."""
        by_customer = await listings.holders_of_links(
            self.store, [link_key(app.id, c.external_customer_id) for c in changes if c.external_customer_id]
        )
        orders = [f"{order_number(c.order_id)}{ORDER_SEPARATOR}{app.id}" for c in changes if c.order_id and not c.external_customer_id]
        by_order = {key for key in orders if await listings.with_order(self.store, [key], limit=1)} if orders else set()
        return [
            c
            for c in changes
            if (c.external_customer_id and link_key(app.id, c.external_customer_id) in by_customer)
            or (not c.external_customer_id and f"{order_number(c.order_id)}{ORDER_SEPARATOR}{app.id}" in by_order)
        ]

    async def _resubscribe(self, app: App) -> int:
        """Asks for the app's subscriptions again (those it has): answers how many the vendor had dropped."""
        if app.webhooks is None or not app.webhooks.subscribed:
            return 0
        return (await self.subscriptions.ensure(app)).restored
