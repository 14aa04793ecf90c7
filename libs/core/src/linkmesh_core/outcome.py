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
from dataclasses import dataclass

from linkmesh_core.errors import NOT_SENT, ServiceError


@dataclass
class VendorLedger:
    reads: int = 0
    writes: int = 0


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


def settle(err: ServiceError, ledger: VendorLedger | None) -> ServiceError:
    """``err`` marked NOT_SENT when the RPC reached the vendor with reads only."""
    if err.outcome is None and ledger is not None and ledger.reads and not ledger.writes:
        err.outcome = NOT_SENT
    return err
