"""The rules a vendor's HTTP answers follow, as the vendor publishes them: when its rate limit
asks to wait, when a 5xx means a maintenance window rather than a fault to retry, and how its
error bodies read. Each connector gives ``linkmesh_core.vendor_http.VendorHTTP`` its own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from linkmesh_core.errors import ServiceError


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


class Refusals(Protocol):
    """An ErrorReader that also maps some 4xx answers itself (its protocol gives them a
    meaning: field errors, a refusal that closes a form)."""

    def refusal(self, status: int, body: Any) -> ServiceError | None:
        """The error for this 4xx answer, or None for the usual mapping."""


class NoRateLimit:
    def block_seconds(self, status: int, headers: Mapping[str, str]) -> float:
        return 0.0


class RetryAfter:
    """For a vendor that publishes no limits but may answer 429 (a Magento behind Fastly or
    a WAF): the bucket waits as ``Retry-After`` says (seconds or an HTTP date), else one second."""

    def block_seconds(self, status: int, headers: Mapping[str, str]) -> float:
        if status != 429:
            return 0.0
        value = (headers.get("Retry-After") or "").strip()
        try:
            return max(float(value), 0.05)
        except ValueError:
            pass
        try:
            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.05)
        except (TypeError, ValueError):
            return 1.0
