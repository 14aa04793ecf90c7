"""The vendor HTTP client every connector uses.

One ``aiohttp.ClientSession`` per process, opened at start-up and closed on
shutdown. Every request carries an absolute deadline (taken from the gRPC
call), so a vendor call never outlives the RPC that asked for it.

- Sent once: a request that changes the vendor's state (any method but GET,
  HEAD and OPTIONS, unless the caller says it is ``idempotent``: a quote, a
  search by POST, a write carrying the vendor's own idempotency key) is never
  repeated after it may have reached the vendor. If its answer is lost (a
  timeout, a 5xx, a broken connection) the error says ``OUTCOME_UNKNOWN``; if it
  never left (no connection, a 429) it says ``NOT_SENT`` and only then may it be
  sent again. Reads are retried as below. This is the one layer that retries
  vendor failures: every layer above answers them at once.
- Destinations: redirects are not followed to another origin (the credentials
  would go with them); a same-origin redirect of a read is followed. Private,
  loopback and link-local addresses are refused unless the deployment allows
  them (``linkmesh_core.destinations``), checked on the address connected to.
- Error messages are built from the vendor's structured error fields and cut
  to a sane length; a body that is not JSON (an HTML error page) is never put
  into a message. The raw body travels as the error's ``debug`` detail, which
  only the lookup debugger shows.
- Rate limits: every request takes its turn from the connector's vendor budget
  (``linkmesh_core.budget``: the vendor's published windows per key, shared by
  every replica). A vendor-specific ``RateLimitPolicy`` reads the response headers
  and says how long the bucket (one store, one API key) must wait; the budget
  holds every replica's requests to that bucket until then. When the wait is longer than the caller's
  remaining deadline the call fails at once with RESOURCE_EXHAUSTED and the
  delay, instead of sleeping past the deadline.
- 429 waits as the policy says and retries while the deadline allows.
- 5xx, timeouts of one attempt and network errors are retried with jittered
  exponential back-off (``linkmesh_core.vendor_retry``), bounded in attempts and by the deadline,
  then answered as UNAVAILABLE.
- 401/403 are UNAUTHENTICATED, 404 NOT_FOUND, other 4xx INVALID_ARGUMENT, each
  with the vendor's own message read by a vendor-specific ``ErrorReader``.
- 204 or an empty body is ``None``.

Secrets travel only in headers and are never logged or put into messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import grpc
import structlog

from linkmesh_core.budget import Budget, Grant, LocalBudget
from linkmesh_core.destinations import GuardedResolver, address_allowed, forbidden_cause, literal_address, url_problem
from linkmesh_core.errors import (
    NOT_SENT,
    OUTCOME_UNKNOWN,
    Outcome,
    ServiceError,
    deadline_exceeded,
    failed_precondition,
    invalid_argument,
    not_found,
    rate_limited,
    unauthenticated,
    unavailable,
)
from linkmesh_core.metrics import VENDOR_LATENCY, VENDOR_REQUESTS
from linkmesh_core.outcome import note_request, note_wait
from linkmesh_core.vendor_bodies import cut_message, debug_text, dumps_body, parse_body
from linkmesh_core.vendor_policies import ErrorReader, NoRateLimit, RateLimitPolicy, Refusals, RetryAfter, UnavailablePolicy
from linkmesh_core.vendor_retry import Transient, with_retries

__all__ = ["Deadline", "ErrorReader", "NoRateLimit", "RateLimitPolicy", "Refusals", "RetryAfter", "UnavailablePolicy", "VendorHTTP"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_REDIRECTS = 3
BASE_URL_FIELD = "api_base_url"


log = structlog.get_logger("linkmesh.vendor_http")


@dataclass
class Deadline:
    """An absolute point on the monotonic clock."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def from_grpc(cls, context: grpc.aio.ServicerContext | None, default: float, margin: float = 0.05) -> Deadline:
        """The RPC's own deadline less a margin to answer in, capped at ``default`` seconds."""
        remaining = context.time_remaining() if context is not None else None
        if remaining is None:
            return cls.after(default)
        return cls.after(max(min(remaining - margin, default), 0.0))

    def remaining(self) -> float:
        return self.at - time.monotonic()


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    raw: bytes
    url: str


class _Bucket:
    def __init__(self, concurrency: int) -> None:
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
        budget: Budget | None = None,
        unavailable_policy: UnavailablePolicy | None = None,
        allow_private_hosts: bool = False,
    ) -> None:
        self.vendor = vendor
        self._policy = rate_limit or NoRateLimit()
        self._errors = errors
        self._max_attempts = max_attempts
        self._attempt_timeout = attempt_timeout
        self._bucket_concurrency = bucket_concurrency
        self._buckets: dict[str, _Bucket] = {}
        self._session: aiohttp.ClientSession | None = None
        self._budget = budget or LocalBudget(vendor)
        self._unavailable = unavailable_policy
        self._allow_private = allow_private_hosts

    async def start(self) -> None:
        await self._budget.start()
        if self._session is None:
            resolver = None if self._allow_private else GuardedResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300, resolver=resolver),
                headers={"User-Agent": f"linkmesh-connector-{self.vendor}"},
                raise_for_status=False,
                json_serialize=dumps_body,
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._budget.close()

    async def hold(self, bucket: str, seconds: float) -> None:
        """No request to ``bucket`` leaves for ``seconds``, from any replica sharing the budget:
        for a vendor that says so in its answer's body (Shopify's THROTTLED), where no
        ``RateLimitPolicy`` reading headers can see it."""
        if seconds > 0:
            await self._budget.block(bucket, seconds)

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
        idempotent: bool | None = None,
        data: bytes | None = None,
    ) -> Any:
        """Sends one logical request; returns the parsed JSON body or None.

        ``idempotent``: whether the request may be sent again after it may have
        reached the vendor (default: only GET, HEAD and OPTIONS may). ``data``: the body's
        exact bytes (a signed body), sent instead of ``json_body``."""
        if self._session is None:
            raise RuntimeError("VendorHTTP.start() was not called")
        safe = method.upper() in SAFE_METHODS if idempotent is None else idempotent
        self._check_destination(url)
        b = self._bucket(bucket)
        try:
            return await with_retries(
                lambda: self._attempt(b, bucket, method, url, deadline, headers, params, json_body, safe, data=data),
                safe=safe,
                max_attempts=self._max_attempts,
                within_s=max(deadline.remaining(), 0.0),
            )
        except Transient as exc:
            outcome: Outcome | None = None if safe else (NOT_SENT if exc.not_sent else OUTCOME_UNKNOWN)
            if deadline.remaining() <= 0:
                err = deadline_exceeded(f"{self.vendor} did not answer before the deadline", outcome=outcome)
            else:
                err = unavailable(f"{self.vendor} is unavailable: {exc.message}", outcome=outcome)
            err.debug = exc.debug
            raise err from None
        except ServiceError as err:
            if not safe and err.outcome is None and err.code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
                err.outcome = OUTCOME_UNKNOWN
            raise

    def _check_destination(self, url: str) -> None:
        """The URL's text: http(s), no credentials in it, and no forbidden address literal."""
        problem = url_problem(url)
        if problem is None and not self._allow_private:
            literal = literal_address(url)
            if literal is not None and not address_allowed(literal):
                problem = "points at a private, loopback or link-local address, which this deployment does not allow"
        if problem is not None:
            err = invalid_argument(f"{self.vendor} URL {problem}", {BASE_URL_FIELD: problem})
            err.outcome = NOT_SENT
            raise err

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
        safe: bool,
        redirects: int = 0,
        data: bytes | None = None,
    ) -> Any:
        """One request: its turn in the vendor's budget, the send, and what the answer means."""
        grant = await self._turn(bucket_key, deadline, safe)
        started = time.perf_counter()
        try:
            answer = await self._send(b, method, url, deadline, headers, params, json_body, data, safe)
        finally:
            await self._budget.completed(grant)
        VENDOR_REQUESTS.labels(self.vendor, str(answer.status)).inc()
        VENDOR_LATENCY.labels(self.vendor).observe(time.perf_counter() - started)
        log.debug(
            "vendor_call",
            vendor=self.vendor,
            method=method,
            url=url.split("?")[0],
            status=answer.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        # An answer the vendor's side failed to give (5xx) is classified by its status alone:
        # rate-limit headers that come with it (a gateway in front of a ReturnLogic in
        # maintenance sends "remaining 0") neither pause the next call nor make it a rate limit.
        block = self._policy.block_seconds(answer.status, answer.headers) if answer.status < 500 else 0.0
        if block > 0:
            await self._budget.block(bucket_key, block)
        body, is_json = parse_body(answer.raw)
        if 200 <= answer.status < 300:
            return body
        if 300 <= answer.status < 400:
            target = urljoin(answer.url, answer.headers.get("Location", ""))
            if safe and _origin(target) == _origin(url) and redirects < MAX_REDIRECTS:
                return await self._attempt(b, bucket_key, method, target, deadline, headers, None, json_body, safe, redirects + 1, data)
            raise self._redirected(url, target, safe)
        raise self._refusal(answer, body if is_json else None, block, deadline, safe)

    async def _turn(self, bucket_key: str, deadline: Deadline, safe: bool) -> Grant:
        """This request's slot in the vendor's budget, waited for within the deadline."""
        grant = await self._budget.reserve(bucket_key, deadline.remaining())
        if grant.wait > 0:
            log.info("vendor_rate_limit_wait", vendor=self.vendor, wait_s=round(grant.wait, 3))
            note_wait(grant.wait)
            await asyncio.sleep(grant.wait)
        if deadline.remaining() <= 0:
            raise deadline_exceeded(f"{self.vendor} did not answer before the deadline", outcome=None if safe else NOT_SENT)
        return grant

    async def _send(
        self,
        b: _Bucket,
        method: str,
        url: str,
        deadline: Deadline,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        json_body: Any,
        data: bytes | None,
        safe: bool,
    ) -> _Answer:
        """The request on the wire; a failure to get an answer says whether it may have reached the vendor."""
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=min(deadline.remaining(), self._attempt_timeout))
        try:
            async with b.semaphore:
                note_request(write=not safe)
                async with self._session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    timeout=timeout,
                    allow_redirects=False,
                    **({"data": data} if data is not None else {"json": json_body}),
                ) as resp:
                    return _Answer(resp.status, resp.headers, await resp.read(), str(resp.url))
        except TimeoutError:
            VENDOR_REQUESTS.labels(self.vendor, "0").inc()
            if deadline.remaining() <= 0.01:
                raise deadline_exceeded(
                    f"{self.vendor} did not answer before the deadline", outcome=None if safe else OUTCOME_UNKNOWN
                ) from None
            raise Transient("timed out") from None
        except aiohttp.ClientConnectorError as exc:
            # No connection was made: nothing reached the vendor.
            VENDOR_REQUESTS.labels(self.vendor, "0").inc()
            forbidden = forbidden_cause(exc)
            if forbidden is not None:
                problem = f"{forbidden}, which this deployment does not allow"
                err = invalid_argument(f"{self.vendor} URL {problem}", {BASE_URL_FIELD: problem})
                err.outcome = NOT_SENT
                raise err from None
            raise Transient(f"connection failed ({type(exc).__name__})", not_sent=True) from None
        except aiohttp.ClientError as exc:
            VENDOR_REQUESTS.labels(self.vendor, "0").inc()
            raise Transient(f"connection failed ({type(exc).__name__})") from None

    def _redirected(self, url: str, target: str, safe: bool) -> ServiceError:
        where = _origin(target) if _origin(target) != _origin(url) else "another address"
        problem = f"answered with a redirect to {where}; credentials are not sent there: set the URL the vendor answers at"
        err = invalid_argument(f"{self.vendor} {problem}", {BASE_URL_FIELD: problem})
        err.outcome = None if safe else OUTCOME_UNKNOWN
        return err

    def _refusal(self, answer: _Answer, body: Any, block: float, deadline: Deadline, safe: bool) -> Exception:
        """What a 4xx or 5xx means: a rate limit, the vendor's own refusal, its outage, or the request's fault."""
        status = answer.status
        debug = debug_text(status, answer.raw)
        if status == 429:
            wait = max(block, 0.0)
            if wait >= deadline.remaining():
                return rate_limited(f"{self.vendor} rate limit reached; retry in {wait:.1f}s", retry_after=round(wait, 3))
            return Transient("rate limited", not_sent=True)
        refusal = getattr(self._errors, "refusal", None)
        custom = refusal(status, body) if refusal is not None and status < 500 else None
        if custom is not None:
            custom.debug = debug
            return custom
        message = cut_message(self._errors.message(status, body)) or f"HTTP {status}"
        if status >= 500 and self._unavailable is not None:
            retry_after = self._unavailable.unavailable(status, answer.headers)
            if retry_after is not None:
                err = unavailable(
                    f"{self.vendor} is unavailable: {message}", retry_after=retry_after, outcome=None if safe else OUTCOME_UNKNOWN
                )
                err.debug = debug
                return err
        if status >= 500:
            return Transient(f"HTTP {status}: {message}" if message != f"HTTP {status}" else message, debug=debug)
        if status in (401, 403):
            err = unauthenticated(f"{self.vendor} refused the credentials: {message}")
        elif status == 404:
            err = not_found(f"{self.vendor}: {message}")
        elif status == 409:
            err = failed_precondition(f"{self.vendor}: {message}")
        else:
            err = invalid_argument(f"{self.vendor} rejected the request: {message}")
        err.debug = debug
        return err


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()
