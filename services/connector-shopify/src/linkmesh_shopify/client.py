"""Shopify's Admin GraphQL API 2025-01: one endpoint, ``POST {base}/admin/api/2025-01/graphql.json``
with ``X-Shopify-Access-Token``.

Rate limit by query cost. Every answer says what the shop's bucket holds
(``extensions.cost.throttleStatus``: ``maximumAvailable``, ``currentlyAvailable``,
``restoreRate``, which differ by plan and are never assumed here) and what the query cost.
Each shop's bucket is kept from the last answer and projected forward at its restore rate;
before a query the client takes what it expects the query to cost (what the same query cost
last time, else the cost its caller estimates) and waits until the bucket holds it, when the
caller's deadline allows the wait, or answers RESOURCE_EXHAUSTED with the delay at once.
A ``THROTTLED`` answer (the query did not run, so it may be sent again, a mutation too) is
handled the same way, and the hold is put into the connector's vendor budget so every
replica waits with this one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from linkmesh_core.errors import ServiceError, rate_limited, unauthenticated
from linkmesh_core.outcome import note_wait
from linkmesh_core.vendor_http import Deadline, VendorHTTP

log = structlog.get_logger("linkmesh.shopify")
API_VERSION = "2025-01"


@dataclass(frozen=True)
class Shop:
    base_url: str  # https://{shop}.myshopify.com, or a sandbox or proxy
    domain: str  # {shop}.myshopify.com
    token: str
    client_secret: str = ""  # the app's API secret key: Shopify signs its webhooks with it

    @property
    def handle(self) -> str:
        return self.domain.removesuffix(".myshopify.com")

    @property
    def endpoint(self) -> str:
        return f"{self.base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"


@dataclass
class Bucket:
    """One shop's cost bucket as its last answer described it."""

    maximum: float
    available: float
    restore_rate: float
    at: float

    def projected(self, now: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * (now - self.at))

    def wait_for(self, cost: float, now: float) -> float:
        short = min(cost, self.maximum) - self.projected(now)
        return max(short, 0.0) / self.restore_rate if self.restore_rate > 0 else (0.0 if short <= 0 else float("inf"))


class ShopifyErrors:
    """Messages from Shopify's HTTP-level error bodies: ``{"errors": "..."}`` or ``{"errors": [{"message"}]}``."""

    def message(self, status: int, body: Any) -> str:
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, str):
            return errors
        if isinstance(errors, list):
            return "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
        if isinstance(errors, dict):
            return "; ".join(f"{k}: {v}" for k, v in errors.items())
        return ""


class ShopifyClient:
    def __init__(self, http: VendorHTTP) -> None:
        self.http = http
        self.buckets: dict[str, Bucket] = {}
        self.learned: dict[str, int] = {}  # what each query cost last time, by its name

    async def query(
        self, shop: Shop, name: str, document: str, variables: dict[str, Any], deadline: Deadline, *, estimate: int, write: bool = False
    ) -> dict[str, Any]:
        """Runs one named query or mutation; answers its ``data``. ``estimate``: its cost
        before Shopify has said (a mutation costs 10)."""
        while True:
            expected = self.learned.get(name, estimate)
            await self._take(shop, expected, deadline)
            body = await self.http.request(
                "POST",
                shop.endpoint,
                bucket=shop.domain,
                deadline=deadline,
                idempotent=not write,
                headers={"X-Shopify-Access-Token": shop.token, "Content-Type": "application/json"},
                json_body={"query": document, "variables": variables},
            )
            body = body if isinstance(body, dict) else {}
            cost = (body.get("extensions") or {}).get("cost") or {}
            self._note(shop, cost)
            if cost.get("requestedQueryCost") is not None:
                self.learned[name] = int(cost["requestedQueryCost"])
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            codes = {str((e.get("extensions") or {}).get("code") or "") for e in errors}
            if "THROTTLED" in codes:
                await self._throttled(shop, int(cost.get("requestedQueryCost") or expected), deadline)
                continue  # a throttled query did not run: sending it again is safe
            if errors:
                raise self._error(errors, codes, body)
            data = body.get("data")
            if not isinstance(data, dict):
                raise ServiceError(grpc.StatusCode.UNAVAILABLE, "Shopify answered without data")
            return data

    async def _take(self, shop: Shop, cost: int, deadline: Deadline) -> None:
        bucket = self.buckets.get(shop.domain)
        if bucket is None:
            return  # nothing known yet: the first answer tells
        now = time.monotonic()
        wait = bucket.wait_for(cost, now)
        if wait >= deadline.remaining():
            raise rate_limited(f"Shopify's query budget for this shop is spent; retry in {wait:.1f}s", retry_after=round(wait, 3))
        # Taken now, so concurrent queries of this process see it gone; the answer corrects it.
        bucket.available, bucket.at = bucket.projected(now) - cost, now
        if wait > 0:
            log.info("vendor_rate_limit_wait", vendor="Shopify", wait_s=round(wait, 3), cost=cost)
            note_wait(wait)
            await asyncio.sleep(wait)

    def _note(self, shop: Shop, cost: dict[str, Any]) -> None:
        status = cost.get("throttleStatus") or {}
        try:
            self.buckets[shop.domain] = Bucket(
                float(status["maximumAvailable"]), float(status["currentlyAvailable"]), float(status["restoreRate"]), time.monotonic()
            )
        except (KeyError, TypeError, ValueError):
            pass

    async def _throttled(self, shop: Shop, cost: int, deadline: Deadline) -> None:
        bucket = self.buckets.get(shop.domain)
        wait = bucket.wait_for(cost, time.monotonic()) if bucket else 1.0
        wait = max(wait, 0.05)
        await self.http.hold(shop.domain, wait)  # every replica holds off with this one
        if wait >= deadline.remaining():
            raise rate_limited(f"Shopify throttled this shop's queries; retry in {wait:.1f}s", retry_after=round(wait, 3))
        log.info("vendor_rate_limit_wait", vendor="Shopify", wait_s=round(wait, 3), cost=cost, throttled=True)
        note_wait(wait)
        await asyncio.sleep(wait)

    @staticmethod
    def _error(errors: list[dict[str, Any]], codes: set[str], body: dict[str, Any]) -> ServiceError:
        message = "; ".join(str(e.get("message", "")) for e in errors)[:300]
        if "ACCESS_DENIED" in codes:
            return unauthenticated(f"Shopify refused the access token for this data (check its scopes): {message}")
        if "MAX_COST_EXCEEDED" in codes:
            return ServiceError(grpc.StatusCode.INTERNAL, f"Shopify refused a query as too costly: {message}")
        if "INTERNAL_SERVER_ERROR" in codes:
            return ServiceError(grpc.StatusCode.UNAVAILABLE, f"Shopify failed to answer: {message}")
        # Anything else is a query Shopify does not accept: linkmesh's fault, not the agent's.
        err = ServiceError(grpc.StatusCode.INTERNAL, f"Shopify rejected linkmesh's query: {message}")
        err.debug = str(body)[:4000]
        return err
