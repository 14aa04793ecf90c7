"""What one RPC sent to a vendor, so its failure can say whether the vendor may have acted.

``VendorHTTP`` notes every request it sends in the ledger of the RPC being served
(a context variable the server's interceptor opens per RPC). When an RPC fails
without saying anything about the outcome itself, ``settle`` marks it:

- it sent vendor requests, none of them state-changing: ``NOT_SENT`` (the vendor
  did not act; a caller may try again, with the same idempotency key);
- otherwise nothing is claimed, and a caller that asked for a change must treat
  the outcome as unknown.

A failed state-changing request marks its own error ``OUTCOME_UNKNOWN`` (it may
have been performed) or ``NOT_SENT`` (it never left, or the vendor refused it
before acting: a rate limit).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from linkmesh_core.errors import NOT_SENT, ServiceError


@dataclass
class VendorLedger:
    """Also what the request's canonical log line says of it: the apps it concerned, the
    calls it made to the next hop, the time it waited for a rate limit."""

    reads: int = 0
    writes: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_s: float = 0.0
    downstream_calls: int = 0
    app_ids: list[str] = field(default_factory=list)

    def note_app(self, app_id: str) -> None:
        if app_id and app_id not in self.app_ids:
            self.app_ids.append(app_id)

    def absorb(self, other: VendorLedger) -> None:
        """Counts what a part of this RPC sent under a ledger of its own (one search of several)."""
        self.reads += other.reads
        self.writes += other.writes
        self.rate_limit_waits += other.rate_limit_waits
        self.rate_limit_wait_s += other.rate_limit_wait_s
        self.downstream_calls += other.downstream_calls
        for app_id in other.app_ids:
            self.note_app(app_id)

    def summary(self) -> dict[str, object]:
        """The canonical line's fields: ``app_id`` (or ``app_ids`` when several), vendor and
        downstream calls, rate-limit waits; a count is left out when it is zero."""
        out: dict[str, object] = {}
        if len(self.app_ids) == 1:
            out["app_id"] = self.app_ids[0]
        elif self.app_ids:
            out["app_ids"] = list(self.app_ids)
        if self.reads or self.writes:
            out["vendor_calls"] = self.reads + self.writes
        if self.downstream_calls:
            out["downstream_calls"] = self.downstream_calls
        if self.rate_limit_waits:
            out["rate_limit_waits"] = self.rate_limit_waits
            out["rate_limit_wait_ms"] = round(self.rate_limit_wait_s * 1000, 1)
        return out


_ledger: contextvars.ContextVar[VendorLedger | None] = contextvars.ContextVar("vendor_ledger", default=None)


def open_ledger() -> VendorLedger:
    """A fresh ledger for the RPC being served (the interceptor calls this)."""
    ledger = VendorLedger()
    _ledger.set(ledger)
    return ledger


def note_request(*, write: bool) -> None:
    ledger = _ledger.get()
    if ledger is None:
        return
    if write:
        ledger.writes += 1
    else:
        ledger.reads += 1


def note_wait(seconds: float) -> None:
    """A rate limit held the RPC being served for ``seconds``."""
    ledger = _ledger.get()
    if ledger is not None and seconds > 0:
        ledger.rate_limit_waits += 1
        ledger.rate_limit_wait_s += seconds


def current_ledger() -> VendorLedger | None:
    return _ledger.get()


def settle(err: ServiceError, ledger: VendorLedger | None) -> ServiceError:
    """``err`` marked NOT_SENT when the RPC reached the vendor with reads only."""
    if err.outcome is None and ledger is not None and ledger.reads and not ledger.writes:
        err.outcome = NOT_SENT
    return err
