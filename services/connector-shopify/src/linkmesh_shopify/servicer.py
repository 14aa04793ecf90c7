"""The Lookup service for Shopify (Admin GraphQL API 2025-01)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging
from linkmesh_core.actions import check_action
from linkmesh_core.app_settings import check_region, check_secret, check_url, region_of, require
from linkmesh_core.connector import LookupServicer
from linkmesh_core.contact_points import email_key, phone_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_shopify import actions, mapping, resolve
from linkmesh_shopify import queries as q
from linkmesh_shopify.client import Shop, ShopifyClient

F = lookup_pb2.LookupField
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


def shop_from(app: lookup_pb2.AppContext) -> tuple[Shop | None, dict[str, str]]:
    errors: dict[str, str] = {}
    domain, problem = check_shop(app.settings.get("shop", ""))
    if problem:
        errors["shop"] = problem
    token = check_secret(app, "access_token", errors)
    base = check_url(app, "api_base_url", errors, default=f"https://{domain}" if domain else "")
    check_region(app, errors)
    if errors:
        return None, errors
    return Shop(base, domain, token), {}


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_terms(request: lookup_pb2.SearchRequest, region: str) -> tuple[list[str], list[str], str]:
    """(emails, phones, order name such as #1001) of a search, normalised; INVALID_ARGUMENT naming the field otherwise."""
    emails = list(dict.fromkeys(email_key(e) for e in request.emails if e.strip()))
    phones: list[str] = []
    for raw in request.phones:
        key = phone_key(raw, region)
        if key is None:
            raise invalid_argument("the search query is invalid", {"phones": f"{raw!r} is not a valid phone number"})
        phones.append(key)
    order_name = ""
    if request.order_number.strip():
        m = ORDER_NAME_RE.match(request.order_number.strip())
        if m is None:
            raise invalid_argument("a Shopify order number is like #1001", {"order_number": "must be an order name such as #1001"})
        order_name = "#" + m.group(1)
    if not emails and not phones and not order_name:
        raise invalid_argument(
            "give at least one email, phone or order number", {"emails": "give at least one email, phone or order number"}
        )
    return emails, phones, order_name


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


class ShopifyLookup(LookupServicer):
    vendor_name = "Shopify"
    client: ShopifyClient

    async def Describe(self, request: lookup_pb2.DescribeRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.DescribeResponse:
        return lookup_pb2.DescribeResponse(
            vendor="shopify",
            display_name="Shopify",
            capabilities=lookup_pb2.Capabilities(
                search_fields=[F.LOOKUP_FIELD_EMAIL, F.LOOKUP_FIELD_PHONE, F.LOOKUP_FIELD_ORDER_NUMBER],
                auto_link_fields=[F.LOOKUP_FIELD_EMAIL, F.LOOKUP_FIELD_PHONE],
                actions=actions.ACTIONS,
            ),
            settings=SETTINGS,
        )

    async def ValidateApp(
        self, request: lookup_pb2.ValidateAppRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ValidateAppResponse:
        shop, errors = shop_from(request.app)
        probe = (
            (lambda: self.client.query(shop, "ShopInfo", q.SHOP_INFO, {}, self.deadline(context), estimate=q.SHOP_INFO_COST))
            if shop
            else None
        )
        return await self.proven(
            errors,
            probe,
            {
                grpc.StatusCode.UNAUTHENTICATED: ("access_token", "Shopify refused this access token"),
                grpc.StatusCode.NOT_FOUND: ("shop", "Shopify knows no shop by this name"),
            },
        )

    async def Search(self, request: lookup_pb2.SearchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.SearchResponse:
        shop = require(shop_from(request.app))
        region = region_of(request.app)
        emails, phones, order_name = search_terms(request, region)
        deadline = self.deadline(context)
        # Two candidates where a unique match matters (an auto-link): the second one shows ambiguity.
        first = 2 if request.auto_link else max(request.limit, 2) if request.limit > 0 else 10
        calls = []
        terms = [f"email:{quoted(e)}" for e in emails] + [f"phone:{quoted(p)}" for p in phones]
        if terms:
            calls.append(
                self.client.query(
                    shop,
                    "SearchCustomers",
                    q.SEARCH_CUSTOMERS,
                    {"query": " OR ".join(terms), "first": first},
                    deadline,
                    estimate=q.SEARCH_CUSTOMERS_COST,
                )
            )
        if order_name:
            calls.append(
                self.client.query(
                    shop,
                    "OrdersByNumber",
                    q.ORDERS_BY_NUMBER,
                    {"query": f"name:{quoted(order_name)}"},
                    deadline,
                    estimate=q.ORDERS_BY_NUMBER_COST,
                )
            )
        answers = await asyncio.gather(*calls)
        found: dict[str, dict] = {}
        for answer in answers:
            for c in (answer.get("customers") or {}).get("nodes") or []:
                s = mapping.summary(c, region)
                if any(email_key(e) in emails for e in s.emails) or any(p.number in phones for p in s.phones):
                    found.setdefault(s.external_id, c)
        guests = by_order(answers, order_name, found)
        if guests:
            answer = await self.client.query(
                shop,
                "SearchCustomers",
                q.SEARCH_CUSTOMERS,
                {"query": " OR ".join(f"email:{quoted(e)}" for e in guests), "first": first},
                deadline,
                estimate=q.SEARCH_CUSTOMERS_COST,
            )
            for c in (answer.get("customers") or {}).get("nodes") or []:
                if email_key(c.get("email") or "") in guests:
                    found.setdefault(mapping.number_of(c["id"]), c)
        candidates = [mapping.summary(c, region) for _, c in sorted(found.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)]
        return lookup_pb2.SearchResponse(candidates=candidates[: request.limit] if request.limit > 0 else candidates)

    async def Fetch(self, request: lookup_pb2.FetchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.FetchResponse:
        shop = require(shop_from(request.app))
        external_id = request.external_id.strip()
        if not external_id.isdigit():
            raise invalid_argument("external_id must be a Shopify customer id", {"external_id": "must be a number"})
        limit = min(request.max_orders or DEFAULT_MAX_ORDERS, MAX_ORDERS)
        deadline = self.deadline(context)
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
        return lookup_pb2.FetchResponse(customer=customer)

    async def RunAction(self, request: lookup_pb2.RunActionRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.RunActionResponse:
        shop = require(shop_from(request.app))
        check_action(actions.ACTIONS, request)
        return await actions.run(self.client, shop, request, self.deadline(context))

    async def ResolveAction(
        self, request: lookup_pb2.ResolveActionRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ResolveActionResponse:
        return await resolve.resolve(self.client, require(shop_from(request.app)), request, self.deadline(context))
