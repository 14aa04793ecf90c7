"""ReturnLogic V1 REST calls: ``{api_base_url}/rmas`` and ``/orders`` with ``Authorization: Bearer``.

Rate limits are per API key: 2 requests per second and 120 per minute. The
connector's vendor budget (``WINDOWS``, shared by every replica) keeps under them; the
``X-RateLimit-Remaining-*`` headers and a 429 make the next call wait for the
window; a 503 is maintenance, answered at once as UNAVAILABLE with a retry delay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linkmesh_core.paging import Listing, Page, read_all
from linkmesh_core.vendor_http import Deadline, VendorHTTP
from linkmesh_returnlogic.mapping import items_of

DEFAULT_API_BASE_URL = "https://api.returnlogic.com/v1"
DEFAULT_APP_BASE_URL = "https://originate.returnlogic.com"
PAGE = 250  # the largest limit ReturnLogic takes
MAX_PAGES = 40
PER_SECOND, PER_MINUTE = 2, 120
MAINTENANCE_RETRY_S = 60.0


WINDOWS = [(PER_SECOND, 1.0), (PER_MINUTE, 60.0)]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


class ReturnLogicRateLimit:
    def block_seconds(self, status: int, headers: Mapping[str, str]) -> float:
        minute = _int(headers.get("X-RateLimit-Remaining-Minute"))
        second = _int(headers.get("X-RateLimit-Remaining-Second"))
        retry_after = float(_int(headers.get("Retry-After")) or 0)
        if minute == 0:
            return max(60.0, retry_after)
        if second == 0 or status == 429:
            return max(1.0, retry_after)
        return 0.0


class ReturnLogicUnavailable:
    def unavailable(self, status: int, headers: Mapping[str, str]) -> float | None:
        if status == 503:  # maintenance: retrying within the call is pointless
            return float(_int(headers.get("Retry-After")) or MAINTENANCE_RETRY_S)
        return None


class ReturnLogicErrors:
    def message(self, status: int, body: Any) -> str:
        if isinstance(body, dict):
            return str(body.get("message") or body.get("error") or body.get("errors") or "").strip()
        return ""


@dataclass(frozen=True)
class Account:
    api_base_url: str
    api_key: str

    @property
    def bucket(self) -> str:
        """Per key, without holding the key itself in a dictionary key."""
        return f"{self.api_base_url}|{hashlib.sha256(self.api_key.encode()).hexdigest()[:16]}"


class ReturnLogicClient:
    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    async def _page(self, account: Account, path: str, deadline: Deadline, params: dict[str, str]) -> Any:
        headers = {"Authorization": f"Bearer {account.api_key}", "Accept": "application/json"}
        return await self.http.request(
            "GET", f"{account.api_base_url.rstrip('/')}{path}", bucket=account.bucket, deadline=deadline, headers=headers, params=params
        )

    async def _list(self, account: Account, path: str, deadline: Deadline, params: dict[str, str]) -> list[dict[str, Any]]:
        """One page of at most ``params["limit"]``."""
        return items_of(await self._page(account, path, deadline, params))

    async def _all(
        self, account: Account, path: str, deadline: Deadline, params: dict[str, str], *, strict: bool
    ) -> Listing[dict[str, Any]]:
        """Every item, page after page (``skip``/``limit``) until a short page or the envelope's
        ``total`` (``linkmesh_core.paging``)."""

        async def page(n: int, page_deadline: Deadline) -> Page[dict[str, Any]]:
            body = await self._page(account, path, page_deadline, {**params, "skip": str((n - 1) * PAGE), "limit": str(PAGE)})
            found = items_of(body)
            total = body.get("total") if isinstance(body, dict) else None
            more = len(found) >= PAGE and not (isinstance(total, int) and n * PAGE >= total)
            return Page(found, more)

        return await read_all(
            page,
            deadline,
            strict=strict,
            max_pages=MAX_PAGES,
            what=f"ReturnLogic {path.strip('/')} list",
            key=lambda item: item.get("id") or item.get("rlRmaId") or id(item),
        )

    async def rmas(self, account: Account, email: str, deadline: Deadline, *, strict: bool = True) -> Listing[dict[str, Any]]:
        """Every RMA of ``email``; ``strict=False`` answers what could be read in time, marked incomplete."""
        return await self._all(account, "/rmas", deadline, {"email": email}, strict=strict)

    async def orders(self, account: Account, email: str, deadline: Deadline, limit: int = 1) -> list[dict[str, Any]]:
        return await self._list(account, "/orders", deadline, {"email": email, "limit": str(limit)})

    async def order_by_number(self, account: Account, number: str, deadline: Deadline) -> dict[str, Any] | None:
        found = await self._list(account, "/orders", deadline, {"orderNumber": number, "limit": "1"})
        return found[0] if found else None

    async def probe(self, account: Account, deadline: Deadline) -> None:
        await self._list(account, "/rmas", deadline, {"limit": "1"})
