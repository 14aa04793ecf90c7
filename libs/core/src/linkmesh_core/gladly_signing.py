"""Gladly's Lookup Adaptor request signing (HMAC-SHA256), both ways.

The facts are in ``docs/lookup-adaptor-protocol.md``; the golden vector
there is checked by ``tests/test_gladly_signing.py``:

    canonical = METHOD \\n path \\n query \\n
                (lower(name):trim(value) \\n for each signed header, sorted) \\n
                signed;header;names \\n lowerhex(sha256(body))
    string_to_sign = "hmac-sha256" \\n Gladly-Time \\n lowerhex(sha256(canonical))
    k_date = HMAC(key, YYYYMMDD of Gladly-Time); signature = lowerhex(HMAC(k_date, string_to_sign))
    Gladly-Authorization: SigningAlgorithm=hmac-sha256, SignedHeaders=a;b, Signature=<hex>

A sender is exact: it signs every header it sends but ``Authorization`` and
``Gladly-Authorization``, over the body bytes it sends (compact JSON). A verifier is
liberal in what it accepts: the signed header list is read from the request, and a
query may have been signed as a sorted, encoded line of its own or as part of the
path (as some adaptors do); the comparison is in constant time either way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

ALGORITHM = "hmac-sha256"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=5)
# The transport's own headers; HTTP Basic's Authorization is signed when present (the protocol).
UNSIGNED = frozenset({"gladly-authorization", "content-length", "host", "user-agent", "accept-encoding", "connection"})
_AUTH = re.compile(r"\s*SigningAlgorithm=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]*)\s*,\s*Signature=([0-9a-fA-F]+)\s*$")


class SignatureError(Exception):
    """A request whose signature does not hold; the message is safe to answer (it says which
    rule failed, never what the right signature or key would be)."""


def compact_json(body: Any) -> bytes:
    """The body as the protocol's senders send it: compact JSON, UTF-8, no trailing newline."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def gladly_time(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(value: str) -> datetime:
    try:
        return datetime.strptime(value.strip(), TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("Gladly-Time must be UTC as YYYYMMDDTHHMMSSZ") from None


def canonical_query(query: str) -> str:
    """Sorted by name then value, each part percent-encoded."""
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str], signed: list[str], body: bytes) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    names = sorted(h.strip().lower() for h in signed)
    lines = "".join(f"{name}:{lower.get(name, '').strip()}\n" for name in names)
    return f"{method.upper()}\n{path}\n{query}\n{lines}\n{';'.join(names)}\n{hashlib.sha256(body).hexdigest()}"


def signature(key: str, time: str, canonical: str) -> str:
    to_sign = f"{ALGORITHM}\n{time}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    k_date = hmac.new(key.encode(), time[:8].encode(), hashlib.sha256).digest()
    return hmac.new(k_date, to_sign.encode(), hashlib.sha256).hexdigest()


def sign(key: str, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> str:
    """The ``Gladly-Authorization`` value for a request with these headers (which must carry
    ``Gladly-Time``); every header but the transport's own is signed."""
    signed = sorted({k.lower() for k in headers} - UNSIGNED)
    lower = {k.lower(): v for k, v in headers.items()}
    if "gladly-time" not in lower:
        raise ValueError("sign a request that carries Gladly-Time")
    sig = signature(key, lower["gladly-time"], canonical_request(method, path, canonical_query(query), headers, signed, body))
    return f"SigningAlgorithm={ALGORITHM}, SignedHeaders={';'.join(signed)}, Signature={sig}"


@dataclass(frozen=True)
class Authorization:
    algorithm: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str | None) -> Authorization:
    if not value:
        raise SignatureError("Gladly-Authorization is missing")
    match = _AUTH.match(value)
    if match is None:
        raise SignatureError("Gladly-Authorization is not SigningAlgorithm=..., SignedHeaders=..., Signature=...")
    algorithm, names, sig = match.groups()
    if algorithm.lower() != ALGORITHM:
        raise SignatureError(f"SigningAlgorithm must be {ALGORITHM}")
    signed = [n.strip().lower() for n in names.split(";") if n.strip()]
    if "gladly-time" not in signed:
        raise SignatureError("SignedHeaders must include gladly-time")
    return Authorization(algorithm, signed, sig.lower())


def verify(
    keys: list[str],
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
    max_skew: timedelta = MAX_SKEW,
) -> None:
    """Raises ``SignatureError`` unless one of ``keys`` signed this request within ``max_skew``
    of ``now``. ``headers`` as received (any case)."""
    lower = {k.lower(): v for k, v in headers.items()}
    auth = parse_authorization(lower.get("gladly-authorization"))
    time = lower.get("gladly-time", "")
    if not time:
        raise SignatureError("Gladly-Time is missing")
    at = parse_time(time)
    if abs((now or datetime.now(UTC)) - at) > max_skew:
        raise SignatureError("Gladly-Time is more than 5 minutes from now")
    missing = [name for name in auth.signed_headers if name not in lower]
    if missing:
        raise SignatureError(f"a signed header is missing: {missing[0]}")
    # The query signed on its own line (the protocol), or as part of the path (seen in adaptors).
    shapes = [(path, canonical_query(query))] + ([(f"{path}?{query}", "")] if query else [])
    good = False
    for key in keys:
        for p, qs in shapes:
            expected = signature(key, time, canonical_request(method, p, qs, lower, auth.signed_headers, body))
            good |= hmac.compare_digest(expected, auth.signature)
    if not good:
        raise SignatureError("the signature does not match")


def signed_headers(
    key: str,
    method: str,
    path: str,
    query: str,
    body: bytes,
    *,
    correlation_id: str,
    trace_id: str,
    extra: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> dict[str, str]:
    """Every header a request to an adaptor carries, ``Gladly-Authorization`` included."""
    headers = {
        "Accept": "application/json",
        **({"Content-Type": "application/json"} if method.upper() != "GET" else {}),
        "Gladly-Correlation-Id": correlation_id,
        "Gladly-Time": gladly_time(at),
        "X-B3-TraceId": trace_id,
        **(extra or {}),
    }
    headers["Gladly-Authorization"] = sign(key, method, path, query, headers, body)
    return headers


def encode_query(params: Mapping[str, str]) -> str:
    return urlencode(sorted(params.items()))
