"""The Lookup service for BigCommerce."""

from __future__ import annotations

import asyncio
import re

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce import actions, mapping, resolve
from linkmesh_bigcommerce.client import DEFAULT_API_BASE_URL, BigCommerceClient, Store
from linkmesh_core import paging
from linkmesh_core.actions import check_action
from linkmesh_core.app_settings import check_region, check_secret, check_url, region_of, require
from linkmesh_core.connector import LookupServicer
from linkmesh_core.contact_points import email_key, phone_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.money import to_decimal
from linkmesh_core.paging import Listing
from linkmesh_core.vendor_http import Deadline

log = structlog.get_logger("linkmesh.bigcommerce")
STORE_HASH_RE = re.compile(r"^[a-z0-9]{5,20}$")
DEFAULT_MAX_ORDERS = 10
F = lookup_pb2.LookupField

SETTINGS = [
    lookup_pb2.SettingSpec(
        name="store_hash",
        label="Store hash",
        required=True,
        hint="The store hash from your API path, without the 'store-' prefix (e.g. abc123).",
    ),
    lookup_pb2.SettingSpec(
        name="access_token",
        label="Access token",
        required=True,
        secret=True,
        hint="A store-level API account token with read scopes for Customers, Orders, Products and Information.",
    ),
    lookup_pb2.SettingSpec(
        name="api_base_url",
        label="API base URL",
        required=False,
        default_value=DEFAULT_API_BASE_URL,
        hint="Leave empty for BigCommerce itself; set it to point at a sandbox or proxy.",
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


def store_from(app: lookup_pb2.AppContext) -> tuple[Store | None, dict[str, str]]:
    """The app's store, or the field errors of its settings."""
    errors: dict[str, str] = {}
    store_hash = app.settings.get("store_hash", "").strip()
    if not store_hash:
        errors["store_hash"] = "is required"
    elif store_hash.startswith("store-"):
        errors["store_hash"] = "enter the store hash without the 'store-' prefix"
    elif not STORE_HASH_RE.match(store_hash):
        errors["store_hash"] = "must be 5-20 lower-case letters and digits"
    token = check_secret(app, "access_token", errors)
    base = check_url(app, "api_base_url", errors, default=DEFAULT_API_BASE_URL)
    check_region(app, errors)
    if errors:
        return None, errors
    return Store(base, store_hash, token), {}


def require_store(app: lookup_pb2.AppContext) -> Store:
    return require(store_from(app))


class BigCommerceLookup(LookupServicer):
    vendor_name = "BigCommerce"
    client: BigCommerceClient

    async def Describe(self, request: lookup_pb2.DescribeRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.DescribeResponse:
        return lookup_pb2.DescribeResponse(
            vendor="bigcommerce",
            display_name="BigCommerce",
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
        store, errors = store_from(request.app)
        probe = (lambda: self.client.store_info(store, self.deadline(context), fresh=True)) if store else None
        return await self.proven(
            errors,
            probe,
            {
                grpc.StatusCode.UNAUTHENTICATED: ("access_token", "BigCommerce refused this token"),
                grpc.StatusCode.NOT_FOUND: ("store_hash", "BigCommerce knows no store with this hash"),
            },
        )

    async def Search(self, request: lookup_pb2.SearchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.SearchResponse:
        store = require_store(request.app)
        region = region_of(request.app)
        emails = [e.strip() for e in request.emails if e.strip()]
        order_number = request.order_number.strip().lstrip("#").strip()
        if order_number and not order_number.isdigit():
            raise invalid_argument("a BigCommerce order number is a number", {"order_number": "must be a number (e.g. 5001)"})
        phones: list[str] = []
        bad: dict[str, str] = {}
        for raw in request.phones:
            key = phone_key(raw, region)
            if key is None:
                bad["phones"] = f"{raw!r} is not a valid phone number"
            else:
                phones.append(key)
        if bad:
            raise invalid_argument("the search query is invalid", bad)
        if not emails and not phones and not order_number:
            raise invalid_argument(
                "give at least one email, phone or order number", {"emails": "give at least one email, phone or order number"}
            )
        deadline = self.deadline(context)
        if order_number:
            # The order id is the order number; a guest order (customer_id 0) names its buyer by the billing email only.
            order = await self.client.order_or_none(store, order_number, deadline)
            if order is None:
                return lookup_pb2.SearchResponse()
            if int(order.get("customer_id") or 0):
                found_by_order = await self.client.customers(store, deadline, id=[str(order["customer_id"])])
            else:
                email = str((order.get("billing_address") or {}).get("email") or "").strip()
                found_by_order = await self.client.customers(store, deadline, email=[email]) if email else []
            candidates = [mapping.summary(c, region) for c in found_by_order]
            return lookup_pb2.SearchResponse(candidates=candidates[: request.limit] if request.limit > 0 else candidates)
        # One request per field: BigCommerce ANDs filters given together.
        calls = []
        if emails:
            calls.append(self.client.customers(store, deadline, email=emails))
        if phones:
            variants = [v for p in phones for v in mapping.phone_variants(p)]
            calls.append(self.client.customers(store, deadline, phone=variants))
        found: dict[int, dict] = {}
        for batch in await asyncio.gather(*calls):
            for c in batch:
                found.setdefault(int(c["id"]), c)
        wanted_emails = {email_key(e) for e in emails}
        wanted_phones = set(phones)
        candidates = []
        for c in sorted(found.values(), key=lambda c: int(c["id"])):
            s = mapping.summary(c, region)
            email_hit = any(email_key(e) in wanted_emails for e in s.emails)
            phone_hit = any(p.number in wanted_phones for p in s.phones)
            if email_hit or phone_hit:
                candidates.append(s)
        if request.limit > 0:
            candidates = candidates[: request.limit]
        return lookup_pb2.SearchResponse(candidates=candidates)

    async def Fetch(self, request: lookup_pb2.FetchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.FetchResponse:
        store = require_store(request.app)
        region = region_of(request.app)
        if not request.external_id.strip().isdigit():
            raise invalid_argument("external_id must be a BigCommerce customer id", {"external_id": "must be a number"})
        max_orders = request.max_orders if request.max_orders > 0 else DEFAULT_MAX_ORDERS
        max_orders = min(max_orders, 50)
        deadline = self.deadline(context)
        found, info, listing = await asyncio.gather(
            self.client.customers(store, deadline, id=[request.external_id.strip()]),
            self.client.store_info(store, deadline),
            self.client.recent_orders(store, request.external_id.strip(), max_orders, deadline),
        )
        if not found:
            raise ServiceError(grpc.StatusCode.NOT_FOUND, f"BigCommerce has no customer {request.external_id}")
        orders = listing.items
        details = await asyncio.gather(
            *(asyncio.gather(self.client.order_products(store, o["id"], deadline), self._shipments(store, o, deadline)) for o in orders)
        )
        product_ids = [int(p["product_id"]) for products, _ in details for p in products.items if p.get("product_id")]
        paths, all_products = await self.client.catalog_urls(store, product_ids, deadline)
        control_panel = str(info.get("control_panel_base_url") or "").rstrip("/")
        storefront = str(info.get("secure_url") or "")
        mapped = []
        for o, (products, shipments) in zip(orders, details, strict=True):
            partial = [part for part, listed in ((paging.SHIPMENTS, shipments), (paging.LINES, products)) if not listed.complete]
            if not all_products and any(p.get("product_id") and int(p["product_id"]) not in paths for p in products.items):
                partial.append(paging.PRODUCT_LINKS)
            mapped.append(
                mapping.order(
                    o,
                    products.items,
                    shipments.items,
                    control_panel=control_panel,
                    storefront=storefront,
                    product_paths=paths,
                    partial=partial,
                )
            )
        customer = mapping.customer(found[0], mapped, control_panel=control_panel, region=region)
        if not listing.complete and len(orders) < max_orders:
            customer.partial.append(paging.ORDERS)
        return lookup_pb2.FetchResponse(customer=customer)

    async def _shipments(self, store: Store, order: dict, deadline: Deadline) -> Listing[dict]:
        """An order with nothing shipped has no shipments: no call is spent on it
        (the store's rate limit is shared by every app)."""
        if not to_decimal(order.get("items_shipped")):
            return Listing()
        return await self.client.order_shipments(store, order["id"], deadline)

    async def RunAction(self, request: lookup_pb2.RunActionRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.RunActionResponse:
        store = require_store(request.app)
        check_action(actions.ACTIONS, request)
        return await actions.run(self.client, store, request, self.deadline(context))

    async def ResolveAction(
        self, request: lookup_pb2.ResolveActionRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ResolveActionResponse:
        return await resolve.resolve(self.client, require_store(request.app), request, self.deadline(context))
