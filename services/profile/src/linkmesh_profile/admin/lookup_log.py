"""What admins read about calls to the apps: the lookup log across every app or one, with the
names of the apps and customers it names, and each app's health as this replica saw it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import invalid_argument
from linkmesh_profile.db import listings
from linkmesh_profile.db.documents import ts
from linkmesh_profile.db.traces import KINDS, trace_to_proto

if TYPE_CHECKING:
    from linkmesh_core.circuit import Snapshot
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.db.traces import TraceStore
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Listing


def shown_name(listing: Listing) -> str:
    """How a customer is named in a log: the name, else the first email or phone."""
    return listing.name or next(iter(listing.emails), "") or next(iter(listing.phones), "")


async def names(store: Store, app_ids: list[str], customer_ids: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The names of these apps (from the apps every replica holds) and customers (one read)."""
    apps = {a.id: a.name for a in await store.list_apps()} if any(app_ids) else {}
    customers = {i: shown_name(c) for i, c in (await listings.by_ids(store, [c for c in customer_ids if c])).items()}
    return apps, customers


def health(snapshot: Snapshot) -> profile_pb2.CircuitState:
    out = profile_pb2.CircuitState(
        state=snapshot.state,
        consecutive_failures=snapshot.consecutive_failures,
        last_error=snapshot.last_error,
        retry_in_s=snapshot.retry_in_s,
    )
    for field, at in (("last_success_at", snapshot.last_success_at), ("last_failure_at", snapshot.last_failure_at)):
        if at:
            getattr(out, field).CopyFrom(ts(datetime.fromtimestamp(at, UTC)))
    return out


class LookupLog:
    def __init__(self, store: Store, apps: AppService, traces: TraceStore) -> None:
        self.store = store
        self.apps = apps
        self.traces = traces

    def health_of(self, app: App) -> profile_pb2.CircuitState:
        return health(self.apps.connectors.breakers.get(app.id, app.name).snapshot())

    async def page(self, request: profile_pb2.ListLookupsRequest) -> profile_pb2.ListLookupsResponse:
        """Newest first, of one app or of every app, filtered by customer, kind and outcome."""
        app = await self.apps.require(request.app_id) if request.app_id else None
        if request.outcome not in ("", "ok", "failed"):
            raise invalid_argument("outcome is ok or failed", {"outcome": "must be ok, failed or empty"})
        if request.kind and request.kind not in KINDS:
            raise invalid_argument("no such kind of lookup", {"kind": f"must be one of: {', '.join(KINDS)}"})
        where: dict[str, Any] = {k: v for k, v in (("customer_id", request.customer_id), ("kind", request.kind)) if v}
        if request.outcome:
            where["code"] = "OK" if request.outcome == "ok" else {"$ne": "OK"}
        docs, next_token = await self.traces.page(request.app_id, where, max(1, min(request.limit or 50, 500)), request.page_token)
        lookups = [trace_to_proto(d) for d in docs]
        app_names, customer_names = await names(self.store, [t.app_id for t in lookups], [t.customer_id for t in lookups])
        for t in lookups:
            t.app_name = app_names.get(t.app_id, "")
            t.customer_name = customer_names.get(t.customer_id, "")
        answer = profile_pb2.ListLookupsResponse(lookups=lookups, next_page_token=next_token)
        if app is not None:
            answer.circuit.CopyFrom(self.health_of(app))
        return answer
