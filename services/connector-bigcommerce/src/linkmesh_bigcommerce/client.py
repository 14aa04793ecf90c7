"""BigCommerce REST calls, as BigCommerce's published specifications define them (``vendor-specs/README.md``).

Base URL ``{api_base_url}/stores/{store_hash}``; ``X-Auth-Token``; V2 wants
``Accept: application/json``. Rate limits are per store: the policy reads
``X-Rate-Limit-Requests-Left`` / ``X-Rate-Limit-Time-Reset-Ms`` and, on 429, waits
the longer of the reset and ``X-Retry-After``.

Every list is paged (``linkmesh_core.paging``): V3 lists by ``page``/``limit`` and
their ``meta.pagination`` (``current_page`` < ``total_pages``); V2 lists, which say
nothing of what follows, by ``page``/``limit`` until a short page or ``204 No
Content``. Order products are read whole (strict) before an action, since a refund
of part of an order's lines must know them all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from linkmesh_core.errors import ServiceError
from linkmesh_core.kept import Kept
from linkmesh_core.paging import Listing, Page, read_all
from linkmesh_core.vendor_http import Deadline, VendorHTTP

DEFAULT_API_BASE_URL = "https://api.bigcommerce.com"
#: Items per page: the most BigCommerce answers (V2 and V3 lists allow ``limit`` up to 250).
MAX_LIMIT = 250
STORE_INFO_TTL_S = 600.0
# A product's storefront path, kept per store this long (at most PRODUCT_PATHS_KEPT per store):
# an open of a customer whose products were seen lately reads its orders in two rounds of
# calls, not three (the catalog is asked only for products it has not seen).
PRODUCT_PATH_TTL_S = 600.0
PRODUCT_PATHS_KEPT = 20_000


class BigCommerceRateLimit:
    def block_seconds(self, status: int, headers: Mapping[str, str]) -> float:
        reset_s = _float(headers.get("X-Rate-Limit-Time-Reset-Ms")) / 1000
        if status == 429:
            return max(reset_s, _float(headers.get("X-Retry-After")), 0.05)
        left = headers.get("X-Rate-Limit-Requests-Left")
        if left is not None and _float(left) <= 0:
            return reset_s
        return 0.0


class BigCommerceErrors:
    """V3 errors are ``{status, title, type, errors}``; V2 errors ``[{status, message}]``."""

    def message(self, status: int, body: Any) -> str:
        if isinstance(body, list) and body and isinstance(body[0], dict):
            return "; ".join(str(e.get("message", "")) for e in body if isinstance(e, dict)).strip()
        if isinstance(body, dict) and isinstance(body.get("data"), list):  # V3 payment actions: {"data": [{"error"}]}
            return "; ".join(str(e.get("error", "")) for e in body["data"] if isinstance(e, dict)).strip()
        if isinstance(body, dict):
            title = str(body.get("title") or body.get("message") or "")
            errors = body.get("errors")
            if isinstance(errors, dict) and errors:
                title += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
            return title.strip()
        return ""


def _float(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else 0.0
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class Store:
    api_base_url: str
    store_hash: str
    access_token: str

    @property
    def root(self) -> str:
        return f"{self.api_base_url.rstrip('/')}/stores/{self.store_hash}"

    @property
    def bucket(self) -> str:
        return f"{self.api_base_url}|{self.store_hash}"


class BigCommerceClient:
    def __init__(self, http: VendorHTTP) -> None:
        self.http = http
        self._store_info: dict[str, tuple[float, dict[str, Any]]] = {}
        self._group_names: dict[str, tuple[float, str]] = {}
        self._product_paths: Kept[int, str] = Kept(PRODUCT_PATH_TTL_S, PRODUCT_PATHS_KEPT)
        self._store_info_locks: dict[str, asyncio.Lock] = {}

    async def _call(
        self,
        store: Store,
        method: str,
        path: str,
        deadline: Deadline,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        idempotent: bool | None = None,
    ) -> Any:
        headers = {"X-Auth-Token": store.access_token, "Accept": "application/json"}
        return await self.http.request(
            method,
            f"{store.root}{path}",
            bucket=store.bucket,
            deadline=deadline,
            headers=headers,
            params=params,
            json_body=body,
            idempotent=idempotent,
        )

    async def _get(self, store: Store, path: str, deadline: Deadline, params: Mapping[str, str] | None = None) -> Any:
        return await self._call(store, "GET", path, deadline, params)

    async def store_info(self, store: Store, deadline: Deadline, *, fresh: bool = False) -> dict[str, Any]:
        """``GET /v2/store`` (control panel and storefront URLs), cached per store for a while."""
        key = store.bucket
        cached = self._store_info.get(key)
        if cached and not fresh and time.monotonic() - cached[0] < STORE_INFO_TTL_S:
            return cached[1]
        lock = self._store_info_locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._store_info.get(key)
            if cached and not fresh and time.monotonic() - cached[0] < STORE_INFO_TTL_S:
                return cached[1]
            info = await self._get(store, "/v2/store", deadline) or {}
            self._store_info[key] = (time.monotonic(), info)
            return info

    async def customer_group_name(self, store: Store, group_id: int, deadline: Deadline) -> str:
        """``GET /v2/customer_groups/{id}``'s name, cached per store and group for a while; empty
        when the store has no such group or no groups (a plan without them) or did not answer:
        a display value never fails a lookup."""
        key = f"{store.bucket}|{group_id}"
        cached = self._group_names.get(key)
        if cached and time.monotonic() - cached[0] < STORE_INFO_TTL_S:
            return cached[1]
        try:
            group = await self._get(store, f"/v2/customer_groups/{group_id}", deadline) or {}
        except ServiceError as err:
            if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                self._group_names[key] = (time.monotonic(), "")  # an answer: asked again after a while
            return ""
        name = str(group.get("name") or "") if isinstance(group, dict) else ""
        self._group_names[key] = (time.monotonic(), name)
        return name

    async def _v3_list(
        self,
        store: Store,
        path: str,
        deadline: Deadline,
        params: Mapping[str, str],
        *,
        limit: int = MAX_LIMIT,
        strict: bool = False,
        what: str = "list",
    ) -> Listing[dict[str, Any]]:
        """A V3 list, page after page by ``meta.pagination``."""

        async def page(n: int, page_deadline: Deadline) -> Page[dict[str, Any]]:
            body = await self._get(store, path, page_deadline, {**params, "page": str(n), "limit": str(limit)}) or {}
            data = [d for d in body.get("data") or [] if isinstance(d, dict)]
            pagination = (body.get("meta") or {}).get("pagination") or {}
            current, total = pagination.get("current_page"), pagination.get("total_pages")
            more = current < total if isinstance(current, int) and isinstance(total, int) else len(data) >= limit
            return Page(data, more)

        return await read_all(page, deadline, strict=strict, what=f"BigCommerce {what}", key=lambda d: d.get("id"))

    async def _v2_list(
        self,
        store: Store,
        path: str,
        deadline: Deadline,
        params: Mapping[str, str] | None = None,
        *,
        limit: int = MAX_LIMIT,
        want: int | None = None,
        strict: bool = False,
        what: str = "list",
    ) -> Listing[dict[str, Any]]:
        """A V2 list (a bare array, or 204 past its end), page after page until a short page."""

        async def page(n: int, page_deadline: Deadline) -> Page[dict[str, Any]]:
            body = await self._get(store, path, page_deadline, {**(params or {}), "page": str(n), "limit": str(limit)})
            items = [i for i in body or [] if isinstance(i, dict)] if isinstance(body, list) else []
            return Page(items, more=len(items) >= limit)

        return await read_all(page, deadline, want=want, strict=strict, what=f"BigCommerce {what}", key=lambda i: i.get("id"))

    async def customers(self, store: Store, deadline: Deadline, **filters: list[str]) -> list[dict[str, Any]]:
        """``GET /v3/customers`` with ``<field>:in`` filters and addresses included: every match
        (strict, since a unique match decides an auto-link)."""
        params = {f"{name}:in": ",".join(values) for name, values in filters.items() if values}
        params["include"] = "addresses"
        return (await self._v3_list(store, "/v3/customers", deadline, params, strict=True, what="customer search")).items

    async def recent_orders(self, store: Store, customer_id: str, limit: int, deadline: Deadline) -> Listing[dict[str, Any]]:
        """The customer's latest orders, each with its lines in its consignments (``lines_of``
        reads them; a store that leaves them out costs a ``/products`` call per order)."""
        params = {
            "customer_id": customer_id,
            "sort": "date_created:desc",
            "include": "consignments.line_items",
            "consignment_structure": "object",
        }
        return await self._v2_list(store, "/v2/orders", deadline, params, limit=min(limit, MAX_LIMIT), want=limit, what="order list")

    async def order_products(self, store: Store, order_id: int, deadline: Deadline, *, strict: bool = False) -> Listing[dict[str, Any]]:
        return await self._v2_list(store, f"/v2/orders/{order_id}/products", deadline, strict=strict, what="order product list")

    async def order_shipments(self, store: Store, order_id: int, deadline: Deadline) -> Listing[dict[str, Any]]:
        return await self._v2_list(store, f"/v2/orders/{order_id}/shipments", deadline, what="shipment list")

    async def catalog_urls(self, store: Store, product_ids: list[int], deadline: Deadline) -> tuple[dict[int, str], bool]:
        """Storefront paths (``custom_url.url``) of catalog products, and whether every product could
        be read: those read within ``PRODUCT_PATH_TTL_S`` from memory, the others from the catalog."""
        if not product_ids:
            return {}, True
        known, missing = self._product_paths.known(store.bucket, sorted(set(product_ids)))
        complete = True
        if missing:
            params = {"id:in": ",".join(str(i) for i in missing), "include_fields": "custom_url"}
            found = await self._v3_list(store, "/v3/catalog/products", deadline, params, what="product list")
            read = {int(p["id"]): str((p.get("custom_url") or {}).get("url") or "") for p in found.items}
            self._product_paths.keep(store.bucket, read)
            known.update(read)
            complete = found.complete
        return {i: url for i, url in known.items() if url}, complete

    # actions

    async def order(self, store: Store, order_id: str, deadline: Deadline) -> dict[str, Any]:
        return await self._get(store, f"/v2/orders/{order_id}", deadline) or {}

    async def order_or_none(self, store: Store, order_id: str, deadline: Deadline) -> dict[str, Any] | None:
        """The order, or None when the store has no order with this id."""
        try:
            return await self.order(store, order_id, deadline) or None
        except ServiceError as err:
            if err.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    async def set_order_status(self, store: Store, order_id: str, status_id: int, deadline: Deadline) -> dict[str, Any]:
        return await self._call(store, "PUT", f"/v2/orders/{order_id}", deadline, body={"status_id": status_id}) or {}

    async def refund_quote(self, store: Store, order_id: str, items: list[dict[str, Any]], deadline: Deadline) -> dict[str, Any]:
        # A quote changes nothing: safe to send again.
        body = await self._call(
            store, "POST", f"/v3/orders/{order_id}/payment_actions/refund_quotes", deadline, body={"items": items}, idempotent=True
        )
        return (body or {}).get("data") or {}

    async def refund(
        self, store: Store, order_id: str, items: list[dict[str, Any]], payments: list[dict[str, Any]], deadline: Deadline
    ) -> dict[str, Any]:
        body = await self._call(
            store, "POST", f"/v3/orders/{order_id}/payment_actions/refunds", deadline, body={"items": items, "payments": payments}
        )
        return (body or {}).get("data") or {}

    async def create_coupon(self, store: Store, coupon: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        return await self._call(store, "POST", "/v2/coupons", deadline, body=coupon) or {}

    # reading back what an action did

    async def refunds(self, store: Store, order_id: str, deadline: Deadline) -> list[dict[str, Any]]:
        """The order's refunds, oldest first."""
        body = await self._get(store, f"/v3/orders/{order_id}/payment_actions/refunds", deadline)
        return list((body or {}).get("data") or [])

    async def coupons_by_code(self, store: Store, code: str, deadline: Deadline) -> list[dict[str, Any]]:
        """The coupons with this code (none: BigCommerce answers 204)."""
        return list(await self._get(store, "/v2/coupons", deadline, {"code": code}) or [])

    # webhooks (Webhooks v3)

    async def hooks(self, store: Store, destination: str, deadline: Deadline) -> list[dict[str, Any]]:
        """The store's hooks to this address, active or not."""
        found = await self._v3_list(store, "/v3/hooks", deadline, {"destination": destination}, strict=True, what="webhook list")
        return found.items

    async def create_hook(self, store: Store, hook: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        body = await self._call(store, "POST", "/v3/hooks", deadline, body=hook)
        return dict((body or {}).get("data") or {})

    async def update_hook(self, store: Store, hook_id: int, changes: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        # The same values again change nothing: safe to send again.
        body = await self._call(store, "PUT", f"/v3/hooks/{hook_id}", deadline, body=changes, idempotent=True)
        return dict((body or {}).get("data") or {})

    async def delete_hook(self, store: Store, hook_id: int, deadline: Deadline) -> None:
        try:
            await self._call(store, "DELETE", f"/v3/hooks/{hook_id}", deadline, idempotent=True)
        except ServiceError as err:
            if err.code != grpc.StatusCode.NOT_FOUND:  # gone already: what was asked
                raise

    async def orders_modified_since(self, store: Store, since: str, page: int, limit: int, deadline: Deadline) -> list[dict[str, Any]]:
        """One page of ``GET /v2/orders?min_date_modified=`` (ISO 8601), the least recently modified first."""
        params = {"min_date_modified": since, "sort": "date_modified:asc", "page": str(page), "limit": str(limit)}
        body = await self._get(store, "/v2/orders", deadline, params)
        return [o for o in body or [] if isinstance(o, dict)] if isinstance(body, list) else []
