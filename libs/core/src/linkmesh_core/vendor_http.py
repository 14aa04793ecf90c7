"""The vendor HTTP client every connector uses.

One ``aiohttp.ClientSession`` per process, opened at start-up and closed on
shutdown. Every request carries an absolute deadline (taken from the gRPC
call), so a vendor call never outlives the RPC that asked for it.

- Rate limits: a vendor-specific ``RateLimitPolicy`` reads the response headers
  and says how long the bucket (one store, one API key) must wait; no request is
  sent to that bucket before then. When the wait is longer than the caller's
  remaining deadline the call fails at once with RESOURCE_EXHAUSTED and the
  delay, instead of sleeping past the deadline.
- 429 waits as the policy says and retries while the deadline allows.
- 5xx, timeouts of one attempt and network errors are retried with jittered
  exponential back-off (tenacity), bounded in attempts and by the deadline,
  then answered as UNAVAILABLE.
- 401/403 are UNAUTHENTICATED, 404 NOT_FOUND, other 4xx INVALID_ARGUMENT, each
  with the vendor's own message read by a vendor-specific ``ErrorReader``.
- 204 or an empty body is ``None``.

Secrets travel only in headers and are never logged or put into messages.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import grpc
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, stop_before_delay, wait_exponential_jitter

from linkmesh_core.errors import (
    deadline_exceeded,
    failed_precondition,
    invalid_argument,
    not_found,
    resource_exhausted,
    unauthenticated,
    unavailable,
)
from linkmesh_core.metrics import VENDOR_LATENCY, VENDOR_REQUESTS
from linkmesh_core.rate_limit import SlidingWindowLimiter

log = structlog.get_logger("linkmesh.vendor_http")


class RateLimitPolicy(Protocol):
    def block_seconds(self, status: int, headers: Mapping[str, str]) -> float:
        """Seconds the bucket must wait before its next request (0: none)."""


class UnavailablePolicy(Protocol):
    def unavailable(self, status: int, headers: Mapping[str, str]) -> float | None:
        """For a 5xx: None to retry it here, or the delay after which the caller
        may retry (a maintenance window), answered at once as UNAVAILABLE."""


class ErrorReader(Protocol):
    def message(self, status: int, body: Any) -> str:
        """A human message from the vendor's error body."""


class NoRateLimit:
    def block_seconds(self, status: int, headers: Mapping[str, str]) -> float:
        return 0.0


@dataclass
class Deadline:
    """An absolute point on the monotonic clock."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds)

    @classmethod
    def from_grpc(cls, context: grpc.aio.ServicerContext | None, default: float, margin: float = 0.05) -> "Deadline":
        """The RPC's own deadline less a margin to answer in, capped at ``default`` seconds."""
        remaining = context.time_remaining() if context is not None else None
        if remaining is None:
            return cls.after(default)
        return cls.after(max(min(remaining - margin, default), 0.0))

    def remaining(self) -> float:
        return self.at - time.monotonic()


class _Transient(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Bucket:
    def __init__(self, concurrency: int) -> None:
        self.blocked_until = 0.0
        self.semaphore = asyncio.Semaphore(concurrency)


class VendorHTTP:
    def __init__(
        self,
        vendor: str,
        *,
        rate_limit: RateLimitPolicy | None = None,
        errors: ErrorReader,
        max_attempts: int = 3,
        attempt_timeout: float = 10.0,
        bucket_concurrency: int = 8,
        limiter: SlidingWindowLimiter | None = None,
        unavailable_policy: UnavailablePolicy | None = None,
    ) -> None:
        self.vendor = vendor
        self._policy = rate_limit or NoRateLimit()
        self._errors = errors
        self._max_attempts = max_attempts
        self._attempt_timeout = attempt_timeout
        self._bucket_concurrency = bucket_concurrency
        self._buckets: dict[str, _Bucket] = {}
        self._session: aiohttp.ClientSession | None = None
        self._limiter = limiter
        self._unavailable = unavailable_policy

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                headers={"User-Agent": f"linkmesh-connector-{self.vendor}"},
                raise_for_status=False,
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._bucket_concurrency)
        return bucket

    async def request(
        self,
        method: str,
        url: str,
        *,
        bucket: str,
        deadline: Deadline,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Sends one logical request (with bounded retries); returns the parsed JSON body or None."""
        if self._session is None:
            raise RuntimeError("VendorHTTP.start() was not called")
        b = self._bucket(bucket)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self._max_attempts) | stop_before_delay(max(deadline.remaining(), 0.0)),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(b, bucket, method, url, deadline, headers, params, json_body)
        except _Transient as exc:
            if deadline.remaining() <= 0:
                raise deadline_exceeded(f"{self.vendor} did not answer before the deadline") from None
            raise unavailable(f"{self.vendor} is unavailable: {exc.message}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _completed(self, bucket_key: str, slot: float | None) -> None:
        if self._limiter is not None and slot is not None:
            self._limiter.completed(bucket_key, slot)

    async def _attempt(
        self,
        b: _Bucket,
        bucket_key: str,
        method: str,
        url: str,
        deadline: Deadline,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        json_body: Any,
    ) -> Any:
        assert self._session is not None
        wait = b.blocked_until - time.monotonic()
        if wait > 0:
            if wait >= deadline.remaining():
                raise resource_exhausted(
                    f"{self.vendor} rate limit reached; retry in {wait:.1f}s", retry_after=round(wait, 3)
                )
            log.info("vendor_rate_limit_wait", vendor=self.vendor, wait_s=round(wait, 3))
            await asyncio.sleep(wait)
        slot = await self._limiter.acquire(bucket_key, deadline.remaining()) if self._limiter is not None else None
        remaining = deadline.remaining()
        if remaining <= 0:
            raise deadline_exceeded(f"{self.vendor} did not answer before the deadline")
        timeout = aiohttp.ClientTimeout(total=min(remaining, self._attempt_timeout))
        started = time.perf_counter()
        try:
            async with b.semaphore:
                async with self._session.request(
                    method, url, headers=headers, params=params, json=json_body, timeout=timeout
                ) as resp:
                    raw = await resp.read()
                    status, resp_headers = resp.status, resp.headers
        except asyncio.TimeoutError:
            self._completed(bucket_key, slot)
            VENDOR_REQUESTS.labels(self.vendor, "0").inc()
            if deadline.remaining() <= 0.01:
                raise deadline_exceeded(f"{self.vendor} did not answer before the deadline") from None
            raise _Transient("timed out") from None
        except aiohttp.ClientError as exc:
            self._completed(bucket_key, slot)
            VENDOR_REQUESTS.labels(self.vendor, "0").inc()
            raise _Transient(f"connection failed ({type(exc).__name__})") from None
        self._completed(bucket_key, slot)
        VENDOR_REQUESTS.labels(self.vendor, str(status)).inc()
        VENDOR_LATENCY.labels(self.vendor).observe(time.perf_counter() - started)
        log.debug(
            "vendor_call",
            vendor=self.vendor,
            method=method,
            url=url.split("?")[0],
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        block = self._policy.block_seconds(status, resp_headers)
        if block > 0:
            b.blocked_until = max(b.blocked_until, time.monotonic() + block)
        body = _parse(raw)
        if 200 <= status < 300:
            return body
        if status == 429:
            wait = max(block, 0.0)
            if wait >= deadline.remaining():
                raise resource_exhausted(
                    f"{self.vendor} rate limit reached; retry in {wait:.1f}s", retry_after=round(wait, 3)
                )
            raise _Transient("rate limited")
        message = self._errors.message(status, body) or f"HTTP {status}"
        if status >= 500 and self._unavailable is not None:
            retry_after = self._unavailable.unavailable(status, resp_headers)
            if retry_after is not None:
                raise unavailable(f"{self.vendor} is unavailable: {message}", retry_after=retry_after)
        if status >= 500:
            raise _Transient(f"HTTP {status}: {message}")
        if status in (401, 403):
            raise unauthenticated(f"{self.vendor} refused the credentials: {message}")
        if status == 404:
            raise not_found(f"{self.vendor}: {message}")
        if status == 409:
            raise failed_precondition(f"{self.vendor}: {message}")
        raise invalid_argument(f"{self.vendor} rejected the request: {message}")


def _parse(raw: bytes) -> Any:
    if not raw or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]
