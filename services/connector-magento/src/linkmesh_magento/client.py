"""Magento 2 admin REST calls, as ``../shared/vendor-specs/magento/admin-schema-2.4.9.yaml``
defines them: ``{api_base_url}/rest/{store_code}/V1/...`` with ``Authorization: Bearer``.

Searches use Magento's ``searchCriteria`` syntax: filters in one group are
OR-ed, groups are AND-ed, and only top-level attributes are searchable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from linkmesh_core.vendor_http import Deadline, VendorHTTP


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


def criteria(groups: list[list[tuple[str, str, str]]], *, sort: list[tuple[str, str]] | None = None,
             page_size: int | None = None) -> dict[str, str]:
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
        params["searchCriteria[page_size]"] = str(page_size)
        params["searchCriteria[current_page]"] = "1"
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

    async def _call(self, shop: Shop, method: str, path: str, deadline: Deadline, params: dict[str, str] | None = None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {shop.access_token}", "Accept": "application/json"}
        return await self.http.request(method, f"{shop.root}{path}", bucket=shop.bucket, deadline=deadline, headers=headers,
                                       params=params, json_body=body)

    async def _get(self, shop: Shop, path: str, deadline: Deadline, params: dict[str, str] | None = None) -> Any:
        return await self._call(shop, "GET", path, deadline, params)

    async def store_configs(self, shop: Shop, deadline: Deadline) -> list[dict[str, Any]]:
        return list(await self._get(shop, "/store/storeConfigs", deadline) or [])

    async def customers_by_email(self, shop: Shop, emails: list[str], deadline: Deadline) -> list[dict[str, Any]]:
        params = criteria([[("email", e, "eq") for e in emails]], page_size=20)
        return list((await self._get(shop, "/customers/search", deadline, params) or {}).get("items") or [])

    async def customer(self, shop: Shop, customer_id: str, deadline: Deadline) -> dict[str, Any]:
        return await self._get(shop, f"/customers/{customer_id}", deadline) or {}

    async def orders(self, shop: Shop, groups: list[list[tuple[str, str, str]]], deadline: Deadline, *, limit: int) -> list[dict[str, Any]]:
        params = criteria(groups, sort=[("created_at", "DESC")], page_size=limit)
        return list((await self._get(shop, "/orders", deadline, params) or {}).get("items") or [])

    async def shipments(self, shop: Shop, order_ids: list[int], deadline: Deadline) -> list[dict[str, Any]]:
        if not order_ids:
            return []
        params = criteria([[("order_id", ",".join(str(i) for i in order_ids), "in")]])
        return list((await self._get(shop, "/shipments", deadline, params) or {}).get("items") or [])

    async def product_url_keys(self, shop: Shop, skus: list[str], deadline: Deadline) -> dict[str, str]:
        if not skus:
            return {}
        params = criteria([[("sku", ",".join(sorted(set(skus))), "in")]])
        out = {}
        for product in (await self._get(shop, "/products", deadline, params) or {}).get("items") or []:
            key = next((a.get("value") for a in product.get("custom_attributes") or [] if a.get("attribute_code") == "url_key"), None)
            if key:
                out[product["sku"]] = str(key)
        return out

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

    async def generate_coupon(self, shop: Shop, rule_id: int, deadline: Deadline) -> str:
        spec = {"rule_id": rule_id, "format": "alphanum", "quantity": 1, "length": 10, "prefix": "LM-"}
        codes = await self._call(shop, "POST", "/coupons/generate", deadline, body={"couponSpec": spec})
        return str((codes or [""])[0])
