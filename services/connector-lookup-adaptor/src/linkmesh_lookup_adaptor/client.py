"""Calls to a custom lookup adaptor, as Gladly's Lookup Adaptor protocol makes them
(``docs/lookup-adaptor-protocol.md``).

- Lookups are ``POST {url}`` with a compact JSON body; action forms are ``GET`` of the
  record's ``formUrl`` and their values ``POST`` to the form's ``actionUrl``, both relative to
  the adaptor's URL (or absolute on its origin: the signing key and credentials are never
  sent to another host).
- Every request is signed (``linkmesh_core.gladly_signing``) over the exact bytes sent, with
  ``Gladly-Time``, a fresh ``Gladly-Correlation-Id`` and the ``X-B3-TraceId`` it encodes; with
  a username, HTTP Basic auth is sent and signed too.
- Lookups and forms are reads (retried after a transport failure); an action's ``POST`` is
  sent once.
- Errors: 401/403 the signature or credentials; 400 with ``errors[].attr`` names the form's
  fields; 406 refuses an action (the form closes); a 429 waits as ``Retry-After`` says.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from linkmesh_core.errors import NOT_SENT, ServiceError, failed_precondition, invalid_argument
from linkmesh_core.gladly_signing import compact_json, signed_headers
from linkmesh_core.vendor_http import BASE_URL_FIELD, Deadline, VendorHTTP

MAX_TIMEOUT_S = 15.0  # the protocol's budget for one call
PROBE_EMAIL = "linkmesh-validation@example.invalid"


@dataclass(frozen=True)
class Adaptor:
    url: str
    signing_key: str
    username: str = ""
    password: str = ""

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def resolve(self, relative: str, field: str) -> str:
        """``relative`` against the adaptor's URL; refused unless on the adaptor's origin."""
        target = urljoin(self.url, relative.strip())
        parts = urlsplit(target)
        if not relative.strip() or f"{parts.scheme}://{parts.netloc}".lower() != self.origin:
            err = invalid_argument(
                f"{field} must be on the adaptor's own host",
                {field: "must be a path on the adaptor's host (its key and credentials are sent nowhere else)"},
            )
            err.outcome = NOT_SENT
            raise err
        return target


def correlation() -> tuple[str, str]:
    """A correlation id (base64url, as Gladly sends) and the trace id it encodes (hex)."""
    raw = os.urandom(16)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), raw.hex()


def _messages(body: Any) -> tuple[str, dict[str, str]]:
    """An adaptor's error body: its messages, and the form fields it names (``attr``)."""
    if not isinstance(body, dict):
        return (str(body)[:300] if body else ""), {}
    messages, fields = [], {}
    errors = body.get("errors")
    for e in errors if isinstance(errors, list) else []:
        if not isinstance(e, dict):
            continue
        text = str(e.get("detail") or e.get("message") or e.get("code") or "").strip()
        if e.get("attr"):
            fields[f"params.{e['attr']}"] = text or "is invalid"
        elif text:
            messages.append(text if not e.get("message") or not e.get("detail") else f"{e['message']}: {e['detail']}")
    for key in ("message", "error", "detail"):
        if isinstance(body.get(key), str) and body[key].strip():
            messages.append(body[key].strip())
    return "; ".join(dict.fromkeys(messages)), fields


class AdaptorErrors:
    def message(self, status: int, body: Any) -> str:
        return _messages(body)[0]

    def refusal(self, status: int, body: Any) -> ServiceError | None:
        text, fields = _messages(body)
        if status == 400:
            return invalid_argument(
                f"the adaptor refused the values: {text or 'check the form'}"
                if fields or text
                else "the adaptor refused the request (400)",
                fields,
            )
        if status == 406:
            return failed_precondition(text or "the adaptor refused the action")
        return None


class AdaptorClient:
    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    async def _send(
        self, adaptor: Adaptor, method: str, url: str, deadline: Deadline, body: Any = None, idempotent: bool | None = None
    ) -> Any:
        raw = compact_json(body) if body is not None else b""
        parts = urlsplit(url)
        correlation_id, trace_id = correlation()
        extra = {"Authorization": basic(adaptor.username, adaptor.password)} if adaptor.username else {}
        headers = signed_headers(
            adaptor.signing_key, method, parts.path or "/", parts.query, raw, correlation_id=correlation_id, trace_id=trace_id, extra=extra
        )
        limited = Deadline.after(min(deadline.remaining(), MAX_TIMEOUT_S))
        try:
            return await self.http.request(
                method,
                url,
                bucket=adaptor.origin,
                deadline=limited,
                headers=headers,
                data=raw if body is not None else None,
                idempotent=idempotent,
            )
        except ServiceError as err:
            if BASE_URL_FIELD in err.fields:  # a forbidden or redirected address: the setting is the app's url
                err.fields = {"url" if k == BASE_URL_FIELD else k: v for k, v in err.fields.items()}
            raise

    async def lookup(
        self, adaptor: Adaptor, level: str, query: dict[str, Any], deadline: Deadline, *, unique: bool = False
    ) -> list[dict[str, Any]]:
        """The adaptor's results (``{"results": null}`` is none)."""
        body = {"lookupLevel": level, "query": query, "uniqueMatchRequired": unique}
        # A lookup reads: sent again after a transport failure like any read.
        answer = await self._send(adaptor, "POST", adaptor.url, deadline, body, idempotent=True)
        results = answer.get("results") if isinstance(answer, dict) else None
        return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []

    async def probe(self, adaptor: Adaptor, deadline: Deadline) -> None:
        """A harmless BASIC lookup (an address no one has) proves the URL, key and credentials."""
        await self.lookup(adaptor, "BASIC", {"emails": [PROBE_EMAIL]}, deadline)

    async def form(self, adaptor: Adaptor, form_url: str, deadline: Deadline) -> tuple[str, dict[str, Any]]:
        """(the form's URL, the form)."""
        url = adaptor.resolve(form_url, "form_url")
        answer = await self._send(adaptor, "GET", url, deadline)
        if not isinstance(answer, dict):
            raise invalid_argument("the adaptor's form is not a JSON object", {"form_url": "answers no form"})
        return url, answer

    async def submit(self, adaptor: Adaptor, action_url: str, values: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        """Posts the form's values once (``action_url`` relative to the adaptor's URL)."""
        url = adaptor.resolve(action_url, "action_url")
        answer = await self._send(adaptor, "POST", url, deadline, values, idempotent=False)
        return answer if isinstance(answer, dict) else {}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
