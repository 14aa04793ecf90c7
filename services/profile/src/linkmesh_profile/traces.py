"""Lookup traces for the debugger, kept in a bounded way.

Every lookup (auto-link search, manual search, fetch, validation, action)
leaves a trace: app, customer, kind, the request with secrets redacted, the
answer or error, latency, and for auto-link the decision and its reason.
Bounded by age (a TTL index, and a prune that also works on servers without
TTL monitors) and by count per app.

A request's traces are written together, in one ``insert_many`` started when its
answer is ready (``batch``), not one insert per lookup before it. ``settle`` waits for
writes under way, so this replica's debugger shows a request's traces as soon as the
request has answered; a write that fails is logged and dropped (traces are diagnostics,
never the record of a decision: links and actions are). A DETAILED answer is kept as a
summary (the customer's fields, each order and return by number and status): the whole
answer is stored once, in the profile's link.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import structlog
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Struct
from linkmesh.profile.v1 import profile_pb2
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import PyMongoError

from linkmesh_core.logging import redact
from linkmesh_profile import queries as q
from linkmesh_profile.documents import ts
from linkmesh_profile.store import Store, now

log = structlog.get_logger("linkmesh.traces")


class Batch:
    """The traces of one request, written together when it ends."""

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []
        self.closed = False


_current: ContextVar[Batch | None] = ContextVar("linkmesh_trace_batch", default=None)


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
    def __init__(self, store: Store, retention_s: float, max_per_app: int) -> None:
        self.db = store.db
        self.collection = store.db[q.TRACES]
        self.retention_s = retention_s
        self.max_per_app = max_per_app
        self._writes: set[asyncio.Task[None]] = set()

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("at", ASCENDING)], name="ttl", expireAfterSeconds=int(self.retention_s))
        await self.collection.create_index([("app_id", ASCENDING), ("at", DESCENDING)], name="by_app")
        await self.collection.create_index([("app_id", ASCENDING), ("customer_id", ASCENDING), ("at", DESCENDING)], name="by_app_customer")

    async def record(self, *, app_id: str, customer_id: str, kind: str, request: dict[str, Any], response: dict[str, Any] | None,
                     code: str, message: str, latency_ms: float, decision: str = "", reason: str = "", dry_run: bool = False) -> dict[str, Any]:
        doc = {
            "app_id": app_id, "customer_id": customer_id, "kind": kind, "request": redact(request),
            "response": redact(response) if response is not None else None, "code": code, "message": message,
            "latency_ms": round(latency_ms, 2), "decision": decision, "reason": reason, "at": now(), "dry_run": dry_run,
        }
        if not dry_run:
            batch = _current.get()
            if batch is not None and not batch.closed:
                batch.docs.append(dict(doc))
            else:
                await self.collection.insert_one(dict(doc))
        return doc

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Collects the traces recorded inside (tasks started inside included) and writes
        them in one insert when the block ends; a trace recorded later is written alone."""
        batch = Batch()
        token = _current.set(batch)
        try:
            yield
        finally:
            _current.reset(token)
            batch.closed = True
            if batch.docs:
                task = asyncio.create_task(self._write(batch.docs))
                self._writes.add(task)
                task.add_done_callback(self._writes.discard)

    async def _write(self, docs: list[dict[str, Any]]) -> None:
        try:
            await self.collection.insert_many(docs, ordered=False)
        except PyMongoError as exc:
            log.warning("trace_write_failed", traces=len(docs), error=type(exc).__name__)

    async def settle(self) -> None:
        """Waits for trace writes under way."""
        if self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def list(self, app_id: str, customer_id: str = "", limit: int = 50) -> list[dict[str, Any]]:
        await self.settle()
        return await q.traces_of(app_id, customer_id).find(self.db, limit=max(1, min(limit, 500))).to_list(length=None)

    async def prune(self) -> int:
        """Deletes traces past retention and, per app, beyond the newest ``max_per_app``
        (traces of a deleted app go with age)."""
        removed = (await self.collection.delete_many(q.traces_before(now() - timedelta(seconds=self.retention_s)).filter)).deleted_count
        for app in await q.all_apps().find(self.db).to_list(length=None):
            app_id = str(app["_id"])
            cutoff = await q.traces_of(app_id).find(self.db).skip(self.max_per_app).limit(1).to_list(length=1)
            if cutoff:
                removed += (await self.collection.delete_many(q.traces_of_app_up_to(app_id, cutoff[0]["at"]).filter)).deleted_count
        return removed

    async def prune_forever(self, every_s: float = 60.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.prune()
            except Exception:  # the next round tries again
                log.warning("trace_prune_failed", exc_info=True)


def trace_to_proto(doc: dict[str, Any]) -> profile_pb2.LookupTrace:
    out = profile_pb2.LookupTrace(
        id=str(doc.get("_id", "")), app_id=doc["app_id"], customer_id=doc.get("customer_id", ""), kind=doc["kind"],
        code=doc.get("code", ""), message=doc.get("message", ""), latency_ms=float(doc.get("latency_ms", 0.0)),
        decision=doc.get("decision", ""), reason=doc.get("reason", ""), dry_run=bool(doc.get("dry_run")),
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
