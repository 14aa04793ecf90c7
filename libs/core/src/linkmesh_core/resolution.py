"""Reading back whether an action whose answer was lost took effect (``ResolveAction``).

A connector looks at the vendor's own record and answers, conservatively:

- APPLIED: exactly one record made after the action was dispatched (less ``CLOCK_SKEW``) for
  the same order, with the same lines (and amount where the vendor keeps it);
- NOT_APPLIED: the record was read and holds nothing of the kind since the dispatch;
- UNDETERMINED: anything else (several candidates, a record that cannot be read now).

The helpers here are what every connector shares: the answers, the time window, the lines a
refund asked for, and the discount code an action makes when the agent gave none (derived from
the action's idempotency key, so it can be looked up afterwards).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.actions import parse_lines
from linkmesh_core.errors import invalid_argument

# How far a vendor's clock may run behind ours: a record stamped this long before the dispatch
# still counts as made after it.
CLOCK_SKEW = timedelta(seconds=30)
Resolution = lookup_pb2.ResolveActionResponse.Resolution


def applied(message: str, result: Mapping[str, str] | None = None) -> lookup_pb2.ResolveActionResponse:
    return lookup_pb2.ResolveActionResponse(resolution=Resolution.APPLIED, message=message, result=dict(result or {}))


def not_applied(message: str) -> lookup_pb2.ResolveActionResponse:
    return lookup_pb2.ResolveActionResponse(resolution=Resolution.NOT_APPLIED, message=message)


def undetermined(message: str) -> lookup_pb2.ResolveActionResponse:
    return lookup_pb2.ResolveActionResponse(resolution=Resolution.UNDETERMINED, message=message)


def since(request: lookup_pb2.ResolveActionRequest) -> datetime:
    """The earliest time a record of this action can carry."""
    if not request.HasField("dispatched_at"):
        raise invalid_argument("dispatched_at is required", {"dispatched_at": "when the action was sent"})
    return request.dispatched_at.ToDatetime(tzinfo=UTC) - CLOCK_SKEW


def when(ts: Timestamp | None) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if ts is not None else None


def wanted_lines(params: Mapping[str, str]) -> dict[str, int]:
    """The lines a refund asked for (``line:qty``); empty when it asked for every line left."""
    try:
        return dict(parse_lines(params.get("lines", "")))
    except ValueError:
        return {}


def one_match(candidates: Iterable[object]) -> tuple[int, object | None]:
    """(how many, the only one or None)."""
    found = list(candidates)
    return len(found), (found[0] if len(found) == 1 else None)


def matching_record(
    records: Iterable[dict[str, object]],
    created: Callable[[dict[str, object]], datetime | None],
    lines_of: Callable[[dict[str, object]], dict[str, int]],
    request: lookup_pb2.ResolveActionRequest,
) -> tuple[int, dict[str, object] | None]:
    """(how many records match, the only one or None): made after the dispatch, with the lines
    the request asked for (any lines when it asked for every line left)."""
    after, wanted = since(request), wanted_lines(request.params)
    made = [r for r in records if (t := created(r)) is not None and t >= after]
    count, match = one_match(r for r in made if (lines_of(r) == wanted if wanted else lines_of(r)))
    return count, match if isinstance(match, dict) else None


def no_match(count: int, what: str) -> lookup_pb2.ResolveActionResponse:
    """The answer when no single record matched: none (not applied) or several (undetermined)."""
    if count == 0:
        return not_applied(f"{what}: none made after the request was sent")
    return undetermined(f"{what}: {count} match the request")


def code_for_key(idempotency_key: str, prefix: str = "LM-") -> str:
    """The discount code an action makes when none was given: the same for the same action's
    key, so the code can be looked up after a lost answer (8 hex digits: 4 billion codes)."""
    return prefix + hashlib.sha256(idempotency_key.encode()).hexdigest()[:8].upper()
