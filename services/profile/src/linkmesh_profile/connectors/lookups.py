"""Connector lookups with a trace each: the one way the profile service calls
a connector on behalf of an app."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from google.protobuf.message import Message
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_profile.db.documents import message_to_doc
from linkmesh_profile.db.traces import TraceStore, summary

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer


class Fetched(NamedTuple):
    """A DETAILED answer: the customer, the same as a document (what a link stores), the trace."""

    customer: lookup_pb2.Customer
    doc: dict[str, Any]
    trace: dict[str, Any]


def profile_hint(customer: Customer | None) -> lookup_pb2.ProfileHint | None:
    """The profile a lookup is made for, as protocols that send it (a lookup adaptor) want it."""
    if customer is None:
        return None
    return lookup_pb2.ProfileHint(id=customer.id, name=customer.name, emails=customer.emails, phones=customer.phones)


def known_data(data: Mapping[str, Any]) -> lookup_pb2.KnownData | None:
    """The orders a link's data holds (``lookup.v1.Customer`` as a document), as a refresh's hint."""
    orders = [o for o in data.get("orders") or () if isinstance(o, Mapping) and o.get("id")]
    if not orders:
        return None
    return lookup_pb2.KnownData(orders=[lookup_pb2.KnownOrder(id=str(o["id"]), shipped=bool(o.get("shipments"))) for o in orders])


Answer = TypeVar("Answer", lookup_pb2.SearchResponse, lookup_pb2.FetchResponse)


class Lookups:
    def __init__(self, apps: AppService, traces: TraceStore) -> None:
        self.apps = apps
        self.traces = traces

    async def _call(
        self, app: App, customer_id: str, kind: str, send: Callable[[], Awaitable[Answer]], request: Message, *, dry_run: bool = False
    ) -> tuple[Answer, dict[str, Any], dict[str, Any]]:
        """Runs one connector call; returns (answer, trace, the answer as a document). Failures
        raise after their trace is kept."""
        started = time.perf_counter()
        request_doc = message_to_doc(request)
        try:
            answer = await send()
        except ServiceError as err:
            err.app_id = app.id  # this app's system failed, not the request
            # The trace travels with the error, so a dry run can show the failed step.
            err.trace = await self.traces.record(
                app_id=app.id,
                customer_id=customer_id,
                kind=kind,
                request=request_doc,
                response={"vendor_answer": err.debug} if err.debug else None,
                code=err.code.name,
                message=err.message,
                latency_ms=(time.perf_counter() - started) * 1000,
                dry_run=dry_run,
            )
            raise
        doc = message_to_doc(answer)  # once: the trace and the link both use it
        response = {"customer": summary(doc.get("customer") or {})} if isinstance(answer, lookup_pb2.FetchResponse) and not dry_run else doc
        trace = await self.traces.record(
            app_id=app.id,
            customer_id=customer_id,
            kind=kind,
            request=request_doc,
            response=response,
            code="OK",
            message="",
            latency_ms=(time.perf_counter() - started) * 1000,
            dry_run=dry_run,
        )
        return answer, trace, doc

    async def search(
        self,
        app: App,
        customer_id: str,
        *,
        emails: list[str],
        phones: list[str],
        order_number: str = "",
        kind: str = "search",
        dry_run: bool = False,
        auto_link_of: Customer | None = None,
    ) -> tuple[lookup_pb2.SearchResponse, dict[str, Any]]:
        """``auto_link_of``: the profile an auto-link searches for (sent along where the protocol does)."""
        request = lookup_pb2.SearchRequest(
            app=self.apps.context(app),
            emails=emails,
            phones=phones,
            order_number=order_number,
            auto_link=auto_link_of is not None,
            profile=profile_hint(auto_link_of),
        )
        answer, trace, _ = await self._call(
            app, customer_id, kind, lambda: self.apps.connectors.search(app, request), request, dry_run=dry_run
        )
        return answer, trace

    async def fetch(
        self,
        app: App,
        customer_id: str,
        external_id: str,
        *,
        kind: str = "fetch",
        dry_run: bool = False,
        customer: Customer | None = None,
        known: lookup_pb2.KnownData | None = None,
    ) -> Fetched:
        """``customer``: the profile linked (or being linked), sent along where the protocol does;
        ``known``: the orders the link holds from its last fetch (a refresh's hint)."""
        request = lookup_pb2.FetchRequest(app=self.apps.context(app), external_id=external_id, profile=profile_hint(customer), known=known)
        answer, trace, doc = await self._call(
            app, customer_id, kind, lambda: self.apps.connectors.fetch(app, request), request, dry_run=dry_run
        )
        return Fetched(answer.customer, doc.get("customer") or {}, trace)

    async def decision(
        self,
        app: App,
        customer_id: str,
        decision: str,
        reason: str,
        *,
        request: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Records an auto-link decision (including why an app was skipped)."""
        return await self.traces.record(
            app_id=app.id,
            customer_id=customer_id,
            kind="autolink",
            request=request or {},
            response=None,
            code="OK",
            message="",
            latency_ms=0.0,
            decision=decision,
            reason=reason,
            dry_run=dry_run,
        )
