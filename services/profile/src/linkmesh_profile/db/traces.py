"""Lookup traces for the debugger, kept in a bounded way.

Every lookup (auto-link search, manual search, fetch, validation, action)
leaves a trace: app, customer, kind, the request with secrets redacted, the
answer or error, latency, and for auto-link the decision and its reason.
Bounded by age (a TTL index, and a prune that also works on servers without
TTL monitors) and by count per app.

Traces never delay an answer: ``record`` queues the trace, and one ``insert_many``
writes what is queued at most ``flush_s`` later (sooner once ``FLUSH_AT`` are queued), so
every request of that moment shares one write (a database call costs more CPU in the
driver than the rest of a lookup's bookkeeping). ``settle`` writes the queue at once and
waits, so this replica's debugger shows a request's traces as soon as it has answered.
``forget`` (a privacy request, an erase) removes a person's traces after writing this replica's
queue, and again once every replica's queue has been written (another replica may hold a
lookup of them for up to ``flush_s``). A
write that fails is logged and its traces dropped, and the queue is bounded
(``linkmesh_traces_dropped_total`` counts what was let go): traces are diagnostics, never
the record of a decision (links and actions are). A DETAILED answer is kept as a summary
(the customer's fields, each order and return by number and status): the whole answer is
stored once, in the profile's link.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta
from typing import Any

import structlog
from bson import ObjectId
from bson.errors import InvalidId
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Struct
from linkmesh.profile.v1 import profile_pb2
from prometheus_client import Counter
from pymongo.errors import PyMongoError

from linkmesh_core.errors import invalid_argument
from linkmesh_core.logging import redact
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.documents import ts
from linkmesh_profile.db.store import Store, now

log = structlog.get_logger("linkmesh.traces")
DROPPED = Counter("linkmesh_traces_dropped_total", "Lookup traces not written (the queue was full or the write failed)")
FLUSH_AT = 500
#: How long after ``flush_s`` a forget is repeated: time for another replica's queued write to land.
FORGET_AGAIN_AFTER_S = 1.0
#: Every kind of lookup a trace records (a test holds the code to it): the values the log's kind filter takes.
KINDS = (
    "search",
    "fetch",
    "autolink",
    "autolink_search",
    "autolink_fetch",
    "refresh",
    "event_search",
    "action",
    "action_resolution",
    "adaptor_basic",
    "adaptor_detailed",
)


def summary(customer: dict[str, Any]) -> dict[str, Any]:
    """A DETAILED answer as a trace keeps it: the customer's own fields, and each order and
    return by id, number or code, and status (lines, shipments and totals stay in the link)."""
    out = {k: v for k, v in customer.items() if k not in ("orders", "returns")}
    if "orders" in customer:
        out["orders"] = [{k: o[k] for k in ("id", "number", "status") if k in o} for o in customer["orders"]]
    if "returns" in customer:
        out["returns"] = [{k: r[k] for k in ("id", "code", "status") if k in r} for r in customer["returns"]]
    return out


class TraceStore:
    def __init__(self, store: Store, retention_s: float, max_per_app: int, flush_s: float = 0.25, max_queued: int = 20_000) -> None:
        self.store = store
        self.db = store.db
        self.collection = store.db[q.TRACES]
        self.retention_s = retention_s
        self.max_per_app = max_per_app
        self.flush_s = flush_s
        self.max_queued = max_queued
        self._queued: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._repeats: set[asyncio.Task[None]] = set()

    async def record(
        self,
        *,
        app_id: str,
        customer_id: str,
        kind: str,
        request: dict[str, Any],
        response: dict[str, Any] | None,
        code: str,
        message: str,
        latency_ms: float,
        decision: str = "",
        reason: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        doc = {
            "app_id": app_id,
            "customer_id": customer_id,
            "kind": kind,
            "request": redact(request),
            "response": redact(response) if response is not None else None,
            "code": code,
            "message": message,
            "latency_ms": round(latency_ms, 2),
            "decision": decision,
            "reason": reason,
            "at": now(),
            "dry_run": dry_run,
        }
        if not dry_run:
            self._queue(dict(doc))
        return doc

    def _queue(self, doc: dict[str, Any]) -> None:
        if len(self._queued) >= self.max_queued:  # the database has been away for a while
            del self._queued[0]
            DROPPED.inc()
        self._queued.append(doc)
        if len(self._queued) >= FLUSH_AT:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_s, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        docs, self._queued = self._queued, []
        if docs:
            task = asyncio.create_task(self._write(docs))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _write(self, docs: list[dict[str, Any]]) -> None:
        try:
            await self.collection.insert_many(docs, ordered=False)
        except PyMongoError as exc:
            DROPPED.inc(len(docs))
            log.warning("trace_write_failed", traces=len(docs), error=type(exc).__name__)

    async def settle(self) -> None:
        """Writes the queued traces now and waits for every write under way."""
        self._flush()
        if self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def forget(self, query: q.Query) -> int:
        """Removes the traces ``query`` names, those this replica holds written first; answers how
        many. Repeated once any other replica's queue has been written: a lookup of the person
        traced there a moment ago would otherwise land after the forget."""
        await self.settle()
        removed = int((await self.collection.delete_many(query.filter)).deleted_count)
        task = asyncio.create_task(self._forget_again(query))
        self._repeats.add(task)
        task.add_done_callback(self._repeats.discard)
        return removed

    async def _forget_again(self, query: q.Query) -> None:
        await asyncio.sleep(self.flush_s + FORGET_AGAIN_AFTER_S)
        try:
            await self.settle()
            await self.collection.delete_many(query.filter)
        except PyMongoError as exc:  # the traces' age and count bounds remove them in the end
            log.warning("trace_forget_failed", error=type(exc).__name__)

    async def recent(self, app_id: str, customer_id: str = "", limit: int = 50) -> list[dict[str, Any]]:
        await self.settle()
        return await q.traces_of(app_id, customer_id).find(self.db, limit=max(1, min(limit, 500))).to_list(length=None)

    async def page(self, app_id: str, where: dict[str, Any], limit: int, page_token: str = "") -> tuple[list[dict[str, Any]], str]:
        """Newest first, filtered (``where``: customer_id, kind, code), ``limit`` at a time."""
        await self.settle()
        after = untoken_trace(page_token) if page_token else None
        found: list[dict[str, Any]] = []
        if after is not None:  # the rest of the last trace's millisecond first
            found = await q.traces_page(app_id, where, after, same_ms=True).find(self.db, limit=limit + 1).to_list(length=None)
        if len(found) <= limit:
            found += await q.traces_page(app_id, where, after).find(self.db, limit=limit + 1 - len(found)).to_list(length=None)
        more = len(found) > limit
        found = found[:limit]
        return found, token_trace(found[-1]) if more else ""

    async def prune(self) -> int:
        """Deletes traces past retention and, per app, beyond the newest ``max_per_app``
        (traces of a deleted app go with age)."""
        await self.settle()
        removed = (await self.collection.delete_many(q.traces_before(now() - timedelta(seconds=self.retention_s)).filter)).deleted_count
        for app in await self.store.list_apps():
            app_id = app.id
            cutoff = await q.traces_of(app_id).find(self.db).skip(self.max_per_app).limit(1).to_list(length=1)
            if cutoff:
                at, oid = cutoff[0]["at"], cutoff[0]["_id"]
                removed += (await self.collection.delete_many(q.traces_of_app_before(app_id, at).filter)).deleted_count
                removed += (
                    await self.collection.delete_many(q.traces_of_app_at_up_to(app_id, at, oid).filter, hint="by_app_newest")
                ).deleted_count
        return removed

    async def prune_forever(self, every_s: float = 60.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.prune()
            except PyMongoError as exc:  # the database is away or slow: the next round tries again
                log.warning("trace_prune_failed", error_type=type(exc).__name__, error=str(exc)[:300])
            except Exception:
                log.exception("trace_prune_failed")


def token_trace(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{doc['at'].isoformat()}|{doc['_id']}".encode()).decode().rstrip("=")


def untoken_trace(token: str) -> tuple[datetime, ObjectId]:
    try:
        at, _, oid = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition("|")
        return datetime.fromisoformat(at), ObjectId(oid)
    except (ValueError, UnicodeDecodeError, InvalidId):
        raise invalid_argument(
            "the page token is not one this list gave", {"page_token": "use next_page_token of the previous page"}
        ) from None


def trace_to_proto(doc: dict[str, Any]) -> profile_pb2.LookupTrace:
    out = profile_pb2.LookupTrace(
        id=str(doc.get("_id", "")),
        app_id=doc["app_id"],
        customer_id=doc.get("customer_id", ""),
        kind=doc["kind"],
        code=doc.get("code", ""),
        message=doc.get("message", ""),
        latency_ms=float(doc.get("latency_ms", 0.0)),
        decision=doc.get("decision", ""),
        reason=doc.get("reason", ""),
        dry_run=bool(doc.get("dry_run")),
    )
    if doc.get("request") is not None:
        out.request.CopyFrom(ParseDict(_plain(doc["request"]), Struct()))
    if doc.get("response") is not None:
        out.response.CopyFrom(ParseDict(_plain(doc["response"]), Struct()))
    at = ts(doc.get("at"))
    if at is not None:
        out.at.CopyFrom(at)
    return out


def _plain(value: Any) -> Any:
    """Struct holds JSON values only."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)
