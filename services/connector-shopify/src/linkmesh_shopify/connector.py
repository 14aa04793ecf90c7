"""Shopify (Admin GraphQL API 2025-01), written against the connector SDK (``linkmesh_core.sdk``)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging, sdk
from linkmesh_core.app_settings import check_region, check_secret, check_url, region_of
from linkmesh_core.contact_points import email_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.vendor_http import Deadline
from linkmesh_shopify import actions, mapping, resolve, webhooks
from linkmesh_shopify import queries as q
from linkmesh_shopify.client import Shop, ShopifyClient

SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com$")
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
ORDER_NAME_RE = re.compile(r"^#?\s*([A-Za-z0-9-]{1,40})$")
# 10 orders of RECENT_ORDERS (lines with their product's store URL, returns with their items) ask
# about 822 points, 11 about 904: under Shopify's 1000-point limit for one query.
DEFAULT_MAX_ORDERS, MAX_ORDERS = 10, 11

SETTINGS = [
    lookup_pb2.SettingSpec(
        name="shop",
        label="Shop",
        required=True,
        hint="The shop's myshopify.com name, e.g. summit-outfitters.myshopify.com (Settings → Domains).",
    ),
    lookup_pb2.SettingSpec(
        name="access_token",
        label="Admin API access token",
        required=True,
        secret=True,
        hint="A custom app's Admin API token (shpat_…) with read_customers, read_orders, read_returns, "
        "write_orders (refund, cancel) and write_discounts scopes.",
    ),
    lookup_pb2.SettingSpec(
        name="client_secret",
        label="Client secret (API secret key)",
        required=False,
        secret=True,
        hint="The custom app's API secret key (its API credentials): Shopify signs the webhooks it sends with it. "
        "Without it linkmesh does not subscribe and reads the shop again when data is due.",
    ),
    lookup_pb2.SettingSpec(
        name="api_base_url",
        label="API base URL",
        required=False,
        hint="Leave empty for https://<shop>; set it to point at a sandbox or proxy.",
        credentials_destination=True,
    ),
    lookup_pb2.SettingSpec(
        name="default_region",
        label="Default phone region",
        required=False,
        default_value="US",
        hint="ISO country used to read phone numbers stored without a country code.",
    ),
]


def check_shop(raw: str) -> tuple[str, str | None]:
    """The shop's ``*.myshopify.com`` name, or the problem with what was entered (naming the fix)."""
    value = raw.strip().lower()
    if not value:
        return "", "is required"
    if "://" in value or "/" in value:
        host = value.split("://", 1)[-1].split("/", 1)[0]
        hint = f" ({host})" if SHOP_RE.match(host) else ""
        return "", f"enter the shop's myshopify.com name{hint}, not a URL"
    if SHOP_RE.match(value):
        return value, None
    if HANDLE_RE.match(value):
        return "", f"enter the full myshopify.com name: {value}.myshopify.com"
    return "", "must be the shop's name ending in .myshopify.com, e.g. summit-outfitters.myshopify.com"


def shop_of(app: sdk.App) -> Shop:
    """The app's shop; ``SettingsInvalid`` names each setting that is wrong."""
    errors: dict[str, str] = {}
    domain, problem = check_shop(app.settings.get("shop", ""))
    if problem:
        errors["shop"] = problem
    token = check_secret(app, "access_token", errors)
    base = check_url(app, "api_base_url", errors, default=f"https://{domain}" if domain else "")
    check_region(app, errors)
    if errors:
        raise sdk.SettingsInvalid(errors)
    return Shop(base, domain, token, app.secrets.get("client_secret", "").strip())


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def order_name_of(number: str) -> str:
    """An order number as Shopify names orders (#1001); INVALID_ARGUMENT when it cannot be one."""
    m = ORDER_NAME_RE.match(number.strip())
    if m is None:
        raise invalid_argument("a Shopify order number is like #1001", {"order_number": "must be an order name such as #1001"})
    return "#" + m.group(1)


def by_order(answers: list[dict[str, Any]], order_name: str, found: dict[str, dict]) -> list[str]:
    """Adds the customers of the orders named ``order_name`` to ``found``; answers the emails of its guest orders."""
    guests: list[str] = []
    for answer in answers:
        for o in (answer.get("orders") or {}).get("nodes") or []:
            if str(o.get("name") or "").lstrip("#").lower() != order_name.lstrip("#").lower():
                continue
            if o.get("customer"):
                found.setdefault(mapping.number_of(o["customer"]["id"]), o["customer"])
            elif o.get("email"):  # a guest order: no customer on it, only the buyer's email
                guests.append(email_key(o["email"]))
    return guests


class Shopify(sdk.Connector[Shop]):
    description = sdk.Description(
        vendor="shopify",
        display_name="Shopify",
        search_by=("email", "phone", "order_number"),
        auto_link_by=("email", "phone"),
        settings=SETTINGS,
        actions=actions.ACTIONS,
    )
    refusals = {
        grpc.StatusCode.UNAUTHENTICATED: ("access_token", "Shopify refused this access token"),
        grpc.StatusCode.NOT_FOUND: ("shop", "Shopify knows no shop by this name"),
    }

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    def account(self, app: sdk.App) -> Shop:
        return shop_of(app)

    async def prove(self, shop: Shop, deadline: Deadline) -> None:
        await self.client.query(shop, "ShopInfo", q.SHOP_INFO, {}, deadline, estimate=q.SHOP_INFO_COST)

    async def _customers(self, shop: Shop, terms: list[str], first: int, deadline: Deadline) -> dict[str, Any]:
        variables = {"query": " OR ".join(terms), "first": first}
        return await self.client.query(shop, "SearchCustomers", q.SEARCH_CUSTOMERS, variables, deadline, estimate=q.SEARCH_CUSTOMERS_COST)

    async def search(self, shop: Shop, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        emails, phones = list(query.emails), list(query.phones)
        order_name = order_name_of(query.order_number) if query.order_number else ""
        calls = []
        terms = [f"email:{quoted(e)}" for e in emails] + [f"phone:{quoted(p)}" for p in phones]
        if terms:  # ``query.first``: two where a unique match matters (an auto-link), the second shows ambiguity
            calls.append(self._customers(shop, terms, query.first, deadline))
        if order_name:
            by_name = {"query": f"name:{quoted(order_name)}"}
            calls.append(self.client.query(shop, "OrdersByNumber", q.ORDERS_BY_NUMBER, by_name, deadline, estimate=q.ORDERS_BY_NUMBER_COST))
        answers = await asyncio.gather(*calls)
        found: dict[str, dict] = {}
        for answer in answers:
            for c in (answer.get("customers") or {}).get("nodes") or []:
                s = mapping.summary(c, query.region)
                if any(email_key(e) in emails for e in s.emails) or any(p.number in phones for p in s.phones):
                    found.setdefault(s.external_id, c)
        guests = by_order(answers, order_name, found)
        if guests:
            answer = await self._customers(shop, [f"email:{quoted(e)}" for e in guests], query.first, deadline)
            for c in (answer.get("customers") or {}).get("nodes") or []:
                if email_key(c.get("email") or "") in guests:
                    found.setdefault(mapping.number_of(c["id"]), c)
        return [mapping.summary(c, query.region) for _, c in sorted(found.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)]

    async def fetch(self, shop: Shop, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        external_id = request.external_id.strip()
        if not external_id.isdigit():
            raise invalid_argument("external_id must be a Shopify customer id", {"external_id": "must be a number"})
        limit = min(request.max_orders or DEFAULT_MAX_ORDERS, MAX_ORDERS)
        found, listing = await asyncio.gather(
            self.client.query(
                shop,
                "FetchCustomer",
                q.FETCH_CUSTOMER,
                {"id": mapping.gid("Customer", external_id)},
                deadline,
                estimate=q.FETCH_CUSTOMER_COST,
            ),
            self.client.query(
                shop,
                "RecentOrders",
                q.RECENT_ORDERS,
                {"query": f"customer_id:{external_id}", "first": limit},
                deadline,
                estimate=q.RECENT_ORDERS_COST,
            ),
        )
        c = found.get("customer")
        if not c:
            raise ServiceError(grpc.StatusCode.NOT_FOUND, f"Shopify has no customer {external_id}")
        orders = listing.get("orders") or {}
        customer = mapping.customer(c, orders.get("nodes") or [], shop.handle, region_of(request.app))
        if (orders.get("pageInfo") or {}).get("hasNextPage") and len(customer.orders) < limit:
            customer.partial.append(paging.ORDERS)
        return customer

    async def run_action(self, shop: Shop, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
        return await actions.run(self.client, shop, request, deadline)

    async def resolve_action(
        self, shop: Shop, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
    ) -> lookup_pb2.ResolveActionResponse:
        return await resolve.resolve(self.client, shop, request, deadline)

    async def subscribe(self, shop: Shop, request: lookup_pb2.SubscribeRequest, deadline: Deadline) -> lookup_pb2.SubscribeResponse:
        if not shop.client_secret:  # its deliveries could not be verified
            raise invalid_argument("set the client secret to receive Shopify's webhooks", {"client_secret": "is required for webhooks"})
        return await webhooks.subscribe(self.client, shop, request, deadline)

    async def unsubscribe(self, shop: Shop, request: lookup_pb2.UnsubscribeRequest, deadline: Deadline) -> lookup_pb2.UnsubscribeResponse:
        return await webhooks.unsubscribe(self.client, shop, request, deadline)

    async def read_delivery(self, shop: Shop, request: lookup_pb2.ReadDeliveryRequest, deadline: Deadline) -> lookup_pb2.Change:
        return webhooks.read(shop, request)

    async def list_changes(self, shop: Shop, request: lookup_pb2.ListChangesRequest, deadline: Deadline) -> lookup_pb2.ListChangesResponse:
        return await webhooks.changes(self.client, shop, request, deadline)
