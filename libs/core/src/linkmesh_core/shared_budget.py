"""The vendor budget every replica of a connector shares, kept in MongoDB (``budget`` says what a budget is).

``LocalBudget`` keeps both in the process. ``SharedBudget`` keeps them in
MongoDB, the database the system already runs (a replica set in production):
one document per bucket in ``vendor_budgets``, changed by one atomic
``findOneAndUpdate`` with an update pipeline that drops the times out of every
window, computes the first time every window and the block allow, and appends
it, all on the server's clock (``$$NOW``), so replicas on different machines
agree without trusting each other's clocks. The answer says how long to wait;
every window is widened by a margin (0.1 s) for the time a request takes to
arrive; a request answered later than that has its slot moved to the time the
answer came back (the vendor counted it when it arrived, somewhere before), and
a TTL index removes buckets nobody used for a while. Cost: one database round
trip per vendor request (the turn), a second for a request slower than the
margin, and one more when the vendor says to hold off.

When MongoDB cannot be reached the budget fails safe, never open: the replica
keeps to its share of each window, the quota divided by the most replicas that
may run (``CONNECTOR_REPLICAS_MAX``, the HorizontalPodAutoscaler's maximum), and
tries the shared budget again after ``retry_shared_s``. A share below one request
per window becomes one request per proportionally longer window (2/s over three
replicas: one request per 1.5 s each).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
import structlog
from prometheus_client import Counter, Gauge
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from linkmesh_core.budget import COLLECTION, KEEP_S, MARGIN_S, Budget, Grant, LocalBudget, Windows, refused, share_of
from linkmesh_core.outcome import note_wait

log = structlog.get_logger("linkmesh.budget")

BUDGET_SHARED = Gauge(
    "linkmesh_vendor_budget_shared",
    "1 while vendor budgets are kept in the shared store, 0 while this replica keeps to its share alone",
    ["vendor"],
)
BUDGET_STORE_ERRORS = Counter(
    "linkmesh_vendor_budget_store_errors_total", "Shared budget operations that failed (the replica fell back to its share)", ["vendor"]
)


def _reserve_pipeline(windows: list[tuple[int, int]], time_left_ms: int, nonce: float) -> list[dict[str, Any]]:
    """One atomic update: forget times out of every window, find the first time the windows
    and the block allow, and take it if it comes within ``time_left_ms``. Times are the
    server's milliseconds; ``nonce`` (< 1 ms) keeps two slots of one millisecond apart."""
    horizon = max((seconds for _, seconds in windows), default=0)
    turns: list[Any] = ["$_now", {"$ifNull": ["$blocked_until", 0]}]
    for limit, seconds in windows:
        turns.append(
            {
                "$let": {
                    "vars": {
                        "recent": {"$filter": {"input": "$slots", "as": "s", "cond": {"$gt": ["$$s", {"$subtract": ["$_now", seconds]}]}}}
                    },
                    "in": {
                        "$cond": [{"$gte": [{"$size": "$$recent"}, limit]}, {"$add": [{"$arrayElemAt": ["$$recent", -limit]}, seconds]}, 0]
                    },
                }
            }
        )
    at = {"$add": ["$_at", nonce]}
    return [
        {"$set": {"_now": {"$toLong": "$$NOW"}}},
        {
            "$set": {
                "slots": {
                    "$filter": {
                        "input": {"$ifNull": ["$slots", []]},
                        "as": "s",
                        "cond": {"$gt": ["$$s", {"$subtract": ["$_now", horizon]}]},
                    }
                }
            }
        },
        {"$set": {"_at": {"$max": turns}}},
        {"$set": {"_ok": {"$lt": [{"$subtract": ["$_at", "$_now"]}, time_left_ms]}}},
        {
            "$set": {
                "slots": {"$cond": ["$_ok", {"$sortArray": {"input": {"$concatArrays": ["$slots", [at]]}, "sortBy": 1}}, "$slots"]},
                "grant": {"at": at, "now": "$_now", "ok": "$_ok"},
                "expires_at": {"$max": [{"$ifNull": ["$expires_at", "$$NOW"]}, {"$add": ["$$NOW", horizon + int(KEEP_S * 1000)]}]},
            }
        },
        {"$unset": ["_now", "_at", "_ok"]},
    ]


# How long a budget read as not blocked is taken as such (``_blocked_only``). At 0.1 s a
# connector whose stores each saw about ten requests a second read the block before nearly
# every request: at one caller 4 of the 5.7 database commands of a search of five apps, and
# most of the embedded database's CPU. A vendor's hold is seconds long (BigCommerce's window
# resets, a Retry-After): another replica learning of it within a second sends at most that
# second's requests into it, each answered 429 (not acted on) and holding that replica too.
CLEAR_FOR_S = 1.0


class SharedBudget:
    """The budget in MongoDB, shared by every replica; this replica's share when MongoDB fails."""

    def __init__(
        self,
        vendor: str,
        windows: Windows,
        uri: str,
        *,
        database: str = "linkmesh",
        replicas: int = 1,
        retry_shared_s: float = 5.0,
        op_timeout_s: float = 0.5,
        margin: float = MARGIN_S,
        clear_for_s: float = CLEAR_FOR_S,
    ) -> None:
        self.vendor = vendor
        # A budget without windows read as not blocked is taken as such this long without
        # asking again: another replica's block reaches this one that much later (its calls in
        # between are answered 429 by the vendor and block it too), and a vendor call costs no
        # database read of its own (a fetch makes up to a dozen).
        self.clear_for_s = clear_for_s
        self._clear_until: dict[str, float] = {}
        self._reading: dict[str, asyncio.Future[float]] = {}
        self._blocks: dict[str, int] = {}  # moves when a block starts and when it is written
        self._blocking: dict[str, int] = {}  # blocks being written
        self.windows = [(limit, int((seconds + margin) * 1000)) for limit, seconds in windows]
        self.fallback = LocalBudget(vendor, share_of(windows, replicas), margin=margin)
        self.margin = margin
        self.replicas = replicas
        self._uri = uri
        self._database = database
        self._retry_shared_s = retry_shared_s
        self._op_timeout_s = op_timeout_s
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._down_until = 0.0
        self._indexed = False
        self._created: set[str] = set()

    async def start(self) -> None:
        if self._client is None:
            timeout_ms = int(self._op_timeout_s * 1000)
            self._client = AsyncMongoClient(
                self._uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, appname=f"linkmesh-budget-{self.vendor}"
            )
            BUDGET_SHARED.labels(self.vendor).set(1)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def _collection(self) -> Any:
        assert self._client is not None, "SharedBudget.start() was not called"
        return self._client[self._database][COLLECTION]

    def _shared(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: PyMongoError) -> None:
        BUDGET_STORE_ERRORS.labels(self.vendor).inc()
        if self._shared():
            log.warning(
                "vendor_budget_fallback",
                vendor=self.vendor,
                error=type(exc).__name__,
                replicas=self.replicas,
                retry_in_s=self._retry_shared_s,
            )
            BUDGET_SHARED.labels(self.vendor).set(0)
        self._down_until = time.monotonic() + self._retry_shared_s

    def _recovered(self) -> None:
        if self._down_until:
            self._down_until = 0.0
            log.info("vendor_budget_shared_again", vendor=self.vendor)
            BUDGET_SHARED.labels(self.vendor).set(1)

    async def _ensure_index(self) -> None:
        if not self._indexed:
            await self._collection.create_index("expires_at", expireAfterSeconds=0, name="expire")
            self._indexed = True

    def _timeout(self, time_left: float) -> Any:
        return pymongo.timeout(max(min(self._op_timeout_s, time_left), 0.01))

    async def reserve(self, key: str, time_left: float) -> Grant:
        if self._shared() and not self.windows:
            return await self._blocked_only(key, time_left)
        if self._shared():
            try:
                with self._timeout(time_left):
                    await self._ensure_index()
                    doc = None
                    for _ in range(3):
                        # The bucket's document is created apart from the turn (an idempotent upsert),
                        # so the turn itself is an update that either matched and took a slot, or
                        # did not match and took nothing: safe to ask again. (One atomic upsert of
                        # the turn would race with another replica's first turn; SecantusDB then
                        # applied it and answered nothing.)
                        if key not in self._created:
                            await self._create(key)
                        doc = await self._collection.find_one_and_update(
                            {"_id": f"{self.vendor}|{key}"},
                            _reserve_pipeline(self.windows, int(time_left * 1000), random.random() * 0.999),
                            return_document=ReturnDocument.AFTER,
                            projection={"grant": 1},
                        )
                        if doc is not None:
                            break
                        self._created.discard(key)  # expired meanwhile
                    if doc is None:
                        raise OperationFailure("the budget document could not be written")
            except PyMongoError as exc:
                self._failed(exc)
            else:
                self._recovered()
                grant = doc["grant"]
                wait = max((int(grant["at"]) - grant["now"]) / 1000, 0.0)  # the slot less its nonce
                if not grant["ok"]:
                    raise refused(self.vendor, wait)
                return Grant(key, wait, float(grant["at"]), shared=True)
        return await self.fallback.reserve(key, time_left)

    async def _create(self, key: str) -> None:
        try:
            await self._collection.update_one(
                {"_id": f"{self.vendor}|{key}"},
                {"$setOnInsert": {"slots": []}, "$max": {"expires_at": datetime.now(UTC) + timedelta(seconds=KEEP_S)}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # another replica created it first
        self._created.add(key)

    async def _blocked_only(self, key: str, time_left: float) -> Grant:
        """A budget without windows (the vendor counts for us) only reads the block: one
        read, no write, and none while it was read as clear within ``clear_for_s``. Turns that
        come while a read is under way share it: at 50 concurrent searches each expiry of the
        clear mark sent a read per turn, 12% of a connector's CPU (and the database's)."""
        if time.monotonic() < self._clear_until.get(key, 0.0):
            return Grant(key, 0.0, shared=True)
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read_block(key, time_left))
            self._reading[key] = reading
            reading.add_done_callback(functools.partial(self._read, key))
        try:
            wait = await asyncio.wait_for(asyncio.shield(reading), time_left)
        except (PyMongoError, TimeoutError):
            return await self.fallback.reserve(key, time_left)
        if wait >= time_left:
            raise refused(self.vendor, wait)
        return Grant(key, wait, shared=True)

    def _read(self, key: str, reading: asyncio.Future[float]) -> None:
        if self._reading.get(key) is reading:
            del self._reading[key]
        if not reading.cancelled():
            reading.exception()  # retrieved: every turn that shared it saw it

    async def _read_block(self, key: str, time_left: float) -> float:
        """How long the bucket is blocked for, read once for every turn waiting on it. A read
        that a block of this replica overlapped marks nothing clear: it may predate the block."""
        blocks = self._blocks.get(key, 0)
        try:
            with self._timeout(time_left):
                docs = await (
                    await self._collection.aggregate(
                        [
                            {"$match": {"_id": f"{self.vendor}|{key}"}},
                            {"$project": {"_id": 0, "wait": {"$subtract": [{"$ifNull": ["$blocked_until", 0]}, {"$toLong": "$$NOW"}]}}},
                        ]
                    )
                ).to_list(length=1)
        except PyMongoError as exc:
            self._failed(exc)
            raise
        self._recovered()
        wait = max((docs[0]["wait"] if docs else 0) / 1000, 0.0)
        if wait <= 0 and self._blocks.get(key, 0) == blocks and not self._blocking.get(key):
            self._clear_until[key] = time.monotonic() + self.clear_for_s
        return float(wait)

    async def completed(self, grant: Grant) -> None:
        if not grant.shared:
            await self.fallback.completed(grant)
            return
        if not self.windows or not self._shared():
            return
        if time.monotonic() - grant.departs <= self.margin:
            return  # answered within the margin every window is widened by: the turn's time already covers the arrival
        fraction = grant.slot % 1 if grant.slot is not None else 0.0
        try:
            with self._timeout(self._op_timeout_s):
                await self._collection.update_one(
                    {"_id": f"{self.vendor}|{grant.key}"},
                    [
                        {
                            "$set": {
                                "slots": {
                                    "$sortArray": {
                                        "input": {
                                            "$map": {
                                                "input": "$slots",
                                                "as": "s",
                                                "in": {
                                                    "$cond": [
                                                        {"$eq": ["$$s", grant.slot]},
                                                        {"$add": [{"$toLong": "$$NOW"}, fraction]},
                                                        "$$s",
                                                    ]
                                                },
                                            }
                                        },
                                        "sortBy": 1,
                                    }
                                }
                            }
                        }
                    ],
                )
        except PyMongoError as exc:
            self._failed(exc)

    async def block(self, key: str, seconds: float) -> None:
        self._clear_until.pop(key, None)  # this replica's next turn reads the block it writes
        self._blocks[key] = self._blocks.get(key, 0) + 1  # and a read under way marks nothing clear
        self._blocking[key] = self._blocking.get(key, 0) + 1
        self._reading.pop(key, None)  # turns from now on read again
        try:
            await self.fallback.block(key, seconds)
            if self._shared():
                await self._write_block(key, int(seconds * 1000))
        finally:
            self._blocks[key] += 1
            self._blocking[key] -= 1

    async def _write_block(self, key: str, ms: int) -> None:
        try:
            with self._timeout(self._op_timeout_s):
                if key not in self._created:
                    await self._create(key)
                await self._collection.update_one(
                    {"_id": f"{self.vendor}|{key}"},
                    [
                        {
                            "$set": {
                                "blocked_until": {"$max": [{"$ifNull": ["$blocked_until", 0]}, {"$add": [{"$toLong": "$$NOW"}, ms]}]},
                                "expires_at": {
                                    "$max": [{"$ifNull": ["$expires_at", "$$NOW"]}, {"$add": ["$$NOW", ms + int(KEEP_S * 1000)]}]
                                },
                            }
                        }
                    ],
                )
        except PyMongoError as exc:
            self._failed(exc)


def vendor_budget(vendor: str, windows: Windows, *, mongodb_uri: str = "", database: str = "linkmesh", replicas: int = 1) -> Budget:
    """The budget a connector keeps: shared through MongoDB when it has a URI, else its own."""
    if mongodb_uri:
        return SharedBudget(vendor, windows, mongodb_uri, database=database, replicas=replicas)
    if replicas > 1:
        log.warning(
            "vendor_budget_not_shared",
            vendor=vendor,
            replicas=replicas,
            hint="set CONNECTOR_MONGODB_URI so replicas share the vendor's limits; each keeps to its share meanwhile",
        )
        return LocalBudget(vendor, share_of(windows, replicas))
    return LocalBudget(vendor, windows)


async def sleep_for(grant: Grant) -> None:
    if grant.wait > 0:
        note_wait(grant.wait)
        await asyncio.sleep(grant.wait)
