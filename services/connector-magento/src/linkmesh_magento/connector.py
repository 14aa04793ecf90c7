"""Magento 2 / Adobe Commerce, on the connector SDK (``linkmesh_core.sdk``). Customers have no
phone of their own, so matching is by email only (and by order number for a manual search)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging, sdk
from linkmesh_core.app_settings import check_region, check_secret, check_url, region_of
from linkmesh_core.contact_points import email_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.vendor_http import Deadline
from linkmesh_magento import actions, mapping, resolve
from linkmesh_magento.client import PAGE_SIZE, MagentoClient, Shop
from linkmesh_magento.early import EarlyShipments

DEFAULT_MAX_ORDERS = 10
STORE_CODE_RE = re.compile(r"^[a-z0-9_]{1,32}$")

SETTINGS = [
    lookup_pb2.SettingSpec(
        name="api_base_url",
        label="Store base URL",
        required=True,
        hint="The store's base URL, e.g. https://shop.example.com; REST paths are {base}/rest/{store_code}/V1/...",
        credentials_destination=True,
    ),
    lookup_pb2.SettingSpec(
        name="access_token",
        label="Access token",
        required=True,
        secret=True,
        hint="An admin or integration token, sent as Bearer (integration tokens need "
        "oauth/consumer/enable_integration_as_bearer on the store).",
    ),
    lookup_pb2.SettingSpec(
        name="store_code", label="Store code", required=False, default_value="default", hint="The store view whose REST API to call."
    ),
    lookup_pb2.SettingSpec(
        name="admin_base_url",
        label="Admin base URL",
        required=False,
        hint="For deep links, e.g. https://shop.example.com/admin (default: {base}/admin).",
    ),
    lookup_pb2.SettingSpec(
        name="max_orders",
        label="Orders to show",
        required=False,
        default_value=str(DEFAULT_MAX_ORDERS),
        hint="How many of the most recent orders a profile shows (1-50).",
    ),
    lookup_pb2.SettingSpec(
        name="default_region",
        label="Default phone region",
        required=False,
        default_value="US",
        hint="ISO country used to read address phones stored without a country code.",
    ),
    lookup_pb2.SettingSpec(
        name="coupon_rule_id",
        label="Coupon cart price rule",
        required=False,
        hint="The id of a cart price rule that allows coupon auto-generation, for the generate_coupon action.",
    ),
]


def shop_from(app: lookup_pb2.AppContext) -> tuple[Shop | None, dict[str, str]]:
    errors: dict[str, str] = {}
    base = check_url(app, "api_base_url", errors, required=True)
    if "api_base_url" not in errors and "/rest" in urlparse(base).path:
        errors["api_base_url"] = "give the store's base URL, without /rest/..."
    store_code = app.settings.get("store_code", "").strip() or "default"
    if not STORE_CODE_RE.match(store_code):
        errors["store_code"] = "must be lower-case letters, digits and underscores"
    check_url(app, "admin_base_url", errors)
    raw_max = app.settings.get("max_orders", "").strip()
    if raw_max and (not raw_max.isdigit() or not 1 <= int(raw_max) <= 50):
        errors["max_orders"] = "must be a whole number from 1 to 50"
    check_region(app, errors)
    rule = app.settings.get("coupon_rule_id", "").strip()
    if rule and not rule.isdigit():
        errors["coupon_rule_id"] = "must be a cart price rule id (a number)"
    token = check_secret(app, "access_token", errors)
    if errors:
        return None, errors
    return Shop(base, store_code, token), {}


def admin_base(app: lookup_pb2.AppContext, shop: Shop) -> str:
    return (app.settings.get("admin_base_url", "").strip() or f"{shop.api_base_url.rstrip('/')}/admin").rstrip("/")


class Magento(sdk.Connector[Shop]):
    description = sdk.Description(
        vendor="magento",
        display_name="Magento 2",
        search_by=("email", "order_number"),
        auto_link_by=("email",),
        settings=SETTINGS,
        actions=actions.ACTIONS,
    )
    refusals = {
        grpc.StatusCode.UNAUTHENTICATED: ("access_token", "Magento refused this token"),
        grpc.StatusCode.NOT_FOUND: ("store_code", "Magento knows no store with this code"),
    }

    def __init__(self, client: MagentoClient) -> None:
        self.client = client

    def account(self, app: sdk.App) -> Shop:
        shop, errors = shop_from(app)
        if shop is None:
            raise sdk.SettingsInvalid(errors)
        return shop

    async def prove(self, account: Shop, deadline: Deadline) -> None:
        await self.client.store_configs(account, deadline)

    async def search(self, account: Shop, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        found: dict[int, dict] = {}
        if query.emails:
            for c in await self.client.customers_by_email(account, list(query.emails), deadline):
                if email_key(c.get("email", "")) in query.emails:
                    found[int(c["id"])] = c
        if query.order_number:
            await self._by_order(account, query.order_number, found, deadline)
        return [mapping.summary(c, query.region) for _, c in sorted(found.items())]

    async def _by_order(self, shop: Shop, number: str, found: dict[int, dict], deadline: Deadline) -> None:
        """Adds the buyers of the orders numbered ``number`` to ``found``."""
        orders = await self.client.orders(shop, [[("increment_id", number, "eq")]], deadline, limit=5)
        ids = {int(o["customer_id"]) for o in orders.items if o.get("customer_id")}
        for c in await asyncio.gather(*(self.client.customer(shop, str(i), deadline) for i in ids - set(found))):
            found[int(c["id"])] = c
        # A guest order has no customer: its buyer is found by the order's email, if they have an account.
        guests = {email_key(o["customer_email"]) for o in orders.items if not o.get("customer_id") and o.get("customer_email")}
        if guests:
            for c in await self.client.customers_by_email(shop, sorted(guests), deadline):
                if email_key(c.get("email", "")) in guests:
                    found[int(c["id"])] = c

    async def fetch(self, account: Shop, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        external_id = request.external_id.strip()
        if not external_id.isdigit():
            raise invalid_argument("external_id must be a Magento customer id", {"external_id": "must be a number"})
        limit = request.max_orders or int(request.app.settings.get("max_orders", "") or DEFAULT_MAX_ORDERS)
        early = EarlyShipments(self.client, account, request.known, min(limit, 50), deadline)
        try:
            try:
                c, listing = await asyncio.gather(
                    self.client.customer(account, external_id, deadline),
                    self.client.orders(account, [[("customer_id", external_id, "eq")]], deadline, limit=min(limit, 50)),
                )
            except ServiceError as err:
                if err.code == grpc.StatusCode.NOT_FOUND:
                    raise ServiceError(grpc.StatusCode.NOT_FOUND, f"Magento has no customer {external_id}") from None
                raise
            orders = listing.items
            mapped = await self._orders(account, orders, admin_base(request.app, account), deadline, early)
        finally:
            early.close()
        customer = mapping.customer(c, mapped, admin_base=admin_base(request.app, account), region=region_of(request.app))
        if not listing.complete and len(orders) < limit:
            customer.partial.append(paging.ORDERS)
        return customer

    async def _orders(self, shop: Shop, orders: list[dict], base: str, deadline: Deadline, early: EarlyShipments) -> list[lookup_pb2.Order]:
        """The orders with their shipments and product links (a part read in part says so)."""
        skus = [i["sku"] for o in orders for i in o.get("items") or [] if not i.get("parent_item_id") and i.get("sku")]
        shipments, (url_keys, all_products) = await asyncio.gather(
            early.shipments([int(o["entity_id"]) for o in orders]),
            self.client.product_url_keys(shop, skus, deadline),
        )
        by_order: dict[int, list[dict]] = {}
        for s in shipments.items:
            by_order.setdefault(int(s["order_id"]), []).append(s)
        mapped = []
        for o in orders:
            partial = []
            # Shipments are read by order id: a list read in part is whole for the orders before the last one it reached.
            if not shipments.complete and int(o["entity_id"]) >= max(by_order, default=0):
                partial.append(paging.SHIPMENTS)
            if not all_products and any(i.get("sku") not in url_keys for i in o.get("items") or [] if not i.get("parent_item_id")):
                partial.append(paging.PRODUCT_LINKS)
            mapped.append(
                mapping.order(
                    o,
                    by_order.get(int(o["entity_id"]), []),
                    admin_base=base,
                    storefront=shop.api_base_url,
                    url_keys=url_keys,
                    partial=partial,
                )
            )
        return mapped

    async def run_action(self, account: Shop, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
        return await actions.run(self.client, account, request, deadline)

    async def resolve_action(
        self, account: Shop, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
    ) -> lookup_pb2.ResolveActionResponse:
        return await resolve.resolve(self.client, account, request, deadline)

    async def list_changes(self, shop: Shop, request: lookup_pb2.ListChangesRequest, deadline: Deadline) -> lookup_pb2.ListChangesResponse:
        """Orders updated since ``request.since`` (``updated_at gteq``), a page at a time, the page
        token the next page's number. Magento sends no change events a store has without an
        extension: this sweep is how its data is kept fresh. ``updated_at`` is in whole seconds
        (UTC): the change happened before the end of it."""
        page = int(request.page_token) if request.page_token.isdigit() else 1
        since = request.since.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S")
        orders, more = await self.client.orders_updated_since(shop, since, page, request.limit or PAGE_SIZE, deadline)
        out = lookup_pb2.ListChangesResponse(next_page_token=str(page + 1) if more else "")
        for order in orders:
            updated = str(order.get("updated_at") or "")
            change = out.changes.add(
                event_id=f"order/{order.get('entity_id')}@{updated}",
                topic="sweep/order",
                external_customer_id=str(order.get("customer_id") or ""),
                order_id=str(order.get("increment_id") or order.get("entity_id") or ""),
                kind="change",
            )
            try:
                at = datetime.strptime(updated, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                continue
            change.happened_at.FromDatetime(at + timedelta(seconds=1))
        return out
