"""Magento 2 admin REST calls, as ``vendor-specs/magento/admin-schema-2.4.9.yaml``
defines them: ``{api_base_url}/rest/{store_code}/V1/...`` with ``Authorization: Bearer``.

Searches use Magento's ``searchCriteria`` syntax: filters in one group are
OR-ed, groups are AND-ed, and only top-level attributes are searchable.

Every search is paged explicitly (``searchCriteria[pageSize]`` and
``[currentPage]``) with a sort that makes pages stable, and read page after page
until ``total_count`` says there is no more (``linkmesh_core.paging``): a store with
Web API input limits on answers 20 items to a search without a page size and
refuses a page size over its maximum ("Maximum SearchCriteria pageSize is %max"),
and a ``currentPage`` past the end answers the last page again, so only
``total_count`` says when to stop. A store's lower maximum is learned from its
refusal and kept for the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import grpc

from linkmesh_core.errors import ServiceError
from linkmesh_core.kept import Kept
from linkmesh_core.paging import Listing, Page, read_all
from linkmesh_core.vendor_http import Deadline, VendorHTTP

#: Items asked per page: under Magento's default maximum (300) and most stores' own.
PAGE_SIZE = 100
MAX_PAGE_SIZE_RE = re.compile(r"Maximum SearchCriteria pageSize is (\d+)")
# A product's url_key, kept per store this long (at most PRODUCT_LINKS_KEPT per store): an open
# of a customer whose products were seen lately asks the catalog only for products it has not seen.
PRODUCT_LINK_TTL_S = 600.0
PRODUCT_LINKS_KEPT = 20_000
Groups = list[list[tuple[str, str, str]]]


class MagentoErrors:
    """``{"message": "... %1 ...", "parameters": [...]}`` or named ``%fieldName`` with an object."""

    def message(self, status: int, body: Any) -> str:
        if not isinstance(body, dict):
            return ""
        text = fill(str(body.get("message") or ""), body.get("parameters"))
        details = [fill(str(e.get("message", "")), e.get("parameters")) for e in body.get("errors") or [] if isinstance(e, dict)]
        return "; ".join(t for t in [text, *details] if t)


def fill(message: str, parameters: Any) -> str:
    """Replaces ``%1``, ``%2`` (positional) or ``%name`` (named) placeholders."""
    if isinstance(parameters, list):
        values: dict[str, Any] = {str(i): v for i, v in enumerate(parameters, start=1)}
        for item in parameters:  # the spec's form: a list of {fieldName, fieldValue, resources}
            if isinstance(item, dict):
                values.update(item)
    elif isinstance(parameters, dict):
        values = dict(parameters)
    else:
        return message
    return re.sub(r"%(\w+)", lambda m: str(values.get(m.group(1), m.group(0))), message)


def criteria(
    groups: Groups, *, sort: list[tuple[str, str]] | None = None, page_size: int | None = None, current_page: int = 1
) -> dict[str, str]:
    """``searchCriteria`` query parameters: ``groups`` of (field, value, condition_type) filters."""
    params: dict[str, str] = {}
    for g, group in enumerate(groups):
        for f, (field, value, condition) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params[f"{prefix}[field]"] = field
            params[f"{prefix}[value]"] = value
            params[f"{prefix}[condition_type]"] = condition
    for i, (field, direction) in enumerate(sort or []):
        params[f"searchCriteria[sort_orders][{i}][field]"] = field
        params[f"searchCriteria[sort_orders][{i}][direction]"] = direction
    if page_size is not None:
        params["searchCriteria[pageSize]"] = str(page_size)
        params["searchCriteria[currentPage]"] = str(current_page)
    return params


@dataclass(frozen=True)
class Shop:
    api_base_url: str
    store_code: str
    access_token: str

    @property
    def root(self) -> str:
        return f"{self.api_base_url.rstrip('/')}/rest/{self.store_code}/V1"

    @property
    def bucket(self) -> str:
        return f"{self.api_base_url}|{self.store_code}"


class MagentoClient:
    def __init__(self, http: VendorHTTP) -> None:
        self.http = http
        # A store's maximum page size, learned from its refusal of a larger one.
        self._max_page_size: dict[str, int] = {}
        self._url_keys: Kept[str, str] = Kept(PRODUCT_LINK_TTL_S, PRODUCT_LINKS_KEPT)

    async def _call(
        self, shop: Shop, method: str, path: str, deadline: Deadline, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {shop.access_token}", "Accept": "application/json"}
        return await self.http.request(
            method, f"{shop.root}{path}", bucket=shop.bucket, deadline=deadline, headers=headers, params=params, json_body=body
        )

    async def _get(self, shop: Shop, path: str, deadline: Deadline, params: dict[str, str] | None = None) -> Any:
        return await self._call(shop, "GET", path, deadline, params)

    async def store_configs(self, shop: Shop, deadline: Deadline) -> list[dict[str, Any]]:
        return list(await self._get(shop, "/store/storeConfigs", deadline) or [])

    async def search(
        self,
        shop: Shop,
        path: str,
        groups: Groups,
        deadline: Deadline,
        *,
        sort: list[tuple[str, str]],
        want: int | None = None,
        strict: bool = False,
        what: str = "list",
    ) -> Listing[dict[str, Any]]:
        """Every item matching ``groups`` (or the first ``want``), page after page by ``total_count``.
        ``sort`` must order the items completely (end with the entity id) so pages do not overlap."""
        for _ in range(2):
            size = min(want or PAGE_SIZE, PAGE_SIZE, self._max_page_size.get(shop.bucket, PAGE_SIZE))

            async def page(n: int, page_deadline: Deadline, size: int = size) -> Page[dict[str, Any]]:
                body = await self._get(shop, path, page_deadline, criteria(groups, sort=sort, page_size=size, current_page=n)) or {}
                items = [i for i in body.get("items") or [] if isinstance(i, dict)]
                total = body.get("total_count")
                return Page(items, more=isinstance(total, int) and n * size < total)

            try:
                return await read_all(
                    page, deadline, want=want, strict=strict, what=f"Magento {what}", key=lambda item: item.get("entity_id", item.get("id"))
                )
            except ServiceError as err:
                limit = MAX_PAGE_SIZE_RE.search(err.message) if err.code == grpc.StatusCode.INVALID_ARGUMENT else None
                if limit is None or int(limit.group(1)) < 1 or int(limit.group(1)) >= size:
                    raise
                self._max_page_size[shop.bucket] = int(limit.group(1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def customers_by_email(self, shop: Shop, emails: list[str], deadline: Deadline) -> list[dict[str, Any]]:
        """Every customer with one of ``emails``: strict, since a unique match decides an auto-link."""
        found = await self.search(
            shop,
            "/customers/search",
            [[("email", e, "eq") for e in emails]],
            deadline,
            sort=[("entity_id", "ASC")],
            strict=True,
            what="customer search",
        )
        return found.items

    async def orders_updated_since(
        self, shop: Shop, since: str, page: int, size: int, deadline: Deadline
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of orders updated at or after ``since`` (``Y-m-d H:i:s``, UTC), the least recently
        updated first, and whether more follow (by ``total_count``: a page past the end answers the last again)."""
        size = min(size, self._max_page_size.get(shop.bucket, PAGE_SIZE))
        params = criteria(
            [[("updated_at", since, "gteq")]], sort=[("updated_at", "ASC"), ("entity_id", "ASC")], page_size=size, current_page=page
        )
        body = await self._get(shop, "/orders", deadline, params) or {}
        items = [i for i in body.get("items") or [] if isinstance(i, dict)]
        total = body.get("total_count")
        return items, isinstance(total, int) and page * size < total

    async def customer(self, shop: Shop, customer_id: str, deadline: Deadline) -> dict[str, Any]:
        return await self._get(shop, f"/customers/{customer_id}", deadline) or {}

    async def orders(self, shop: Shop, groups: Groups, deadline: Deadline, *, limit: int) -> Listing[dict[str, Any]]:
        """The newest ``limit`` orders matching ``groups``."""
        return await self.search(
            shop, "/orders", groups, deadline, sort=[("created_at", "DESC"), ("entity_id", "DESC")], want=limit, what="order list"
        )

    async def shipments(self, shop: Shop, order_ids: list[int], deadline: Deadline) -> Listing[dict[str, Any]]:
        """Every shipment of ``order_ids``, by order: a list read in part is complete for every order
        before the last order it reached."""
        if not order_ids:
            return Listing()
        return await self.search(
            shop,
            "/shipments",
            [[("order_id", ",".join(str(i) for i in sorted(set(order_ids))), "in")]],
            deadline,
            sort=[("order_id", "ASC"), ("entity_id", "ASC")],
            what="shipment list",
        )

    async def product_url_keys(self, shop: Shop, skus: list[str], deadline: Deadline) -> tuple[dict[str, str], bool]:
        """``url_key`` of each product of ``skus``, and whether every product could be read: those
        read within ``PRODUCT_LINK_TTL_S`` from memory, the others from the catalog."""
        if not skus:
            return {}, True
        known, missing = self._url_keys.known(shop.bucket, sorted(set(skus)))
        if not missing:
            return {sku: key for sku, key in known.items() if key}, True
        found = await self.search(
            shop,
            "/products",
            [[("sku", ",".join(missing), "in")]],
            deadline,
            sort=[("sku", "ASC"), ("entity_id", "ASC")],
            what="product list",
        )
        read = {}
        for product in found.items:
            key = next((a.get("value") for a in product.get("custom_attributes") or [] if a.get("attribute_code") == "url_key"), None)
            if product.get("sku"):
                read[str(product["sku"])] = str(key or "")
        self._url_keys.keep(shop.bucket, read)
        known.update(read)
        return {sku: key for sku, key in known.items() if key}, found.complete

    # actions

    async def order(self, shop: Shop, order_id: str, deadline: Deadline) -> dict[str, Any]:
        return await self._get(shop, f"/orders/{order_id}", deadline) or {}

    async def cancel(self, shop: Shop, order_id: str, deadline: Deadline) -> bool:
        """Magento answers a bare boolean: false when the order cannot be canceled."""
        return bool(await self._call(shop, "POST", f"/orders/{order_id}/cancel", deadline))

    async def refund(self, shop: Shop, order_id: str, items: list[dict[str, Any]], deadline: Deadline, *, notify: bool) -> int:
        """A credit memo for ``items``; answers its id."""
        return int(await self._call(shop, "POST", f"/order/{order_id}/refund", deadline, body={"items": items, "notify": notify}))

    async def creditmemo(self, shop: Shop, memo_id: int, deadline: Deadline) -> dict[str, Any]:
        """``GET /V1/creditmemo/{id}``: the credit memo with Magento's own totals."""
        return await self._get(shop, f"/creditmemo/{memo_id}", deadline) or {}

    async def creditmemos(self, shop: Shop, order_id: str, deadline: Deadline) -> list[dict[str, Any]]:
        """Every credit memo of the order (``GET /V1/creditmemos`` by ``order_id``)."""
        found = await self.search(
            shop,
            "/creditmemos",
            [[("order_id", order_id, "eq")]],
            deadline,
            sort=[("entity_id", "ASC")],
            strict=True,
            what="credit memo list",
        )
        return list(found.items)

    async def generate_coupon(self, shop: Shop, rule_id: int, deadline: Deadline) -> str:
        spec = {"rule_id": rule_id, "format": "alphanum", "quantity": 1, "length": 10, "prefix": "LM-"}
        codes = await self._call(shop, "POST", "/coupons/generate", deadline, body={"couponSpec": spec})
        return str((codes or [""])[0])
