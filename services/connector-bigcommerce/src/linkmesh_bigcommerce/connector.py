"""BigCommerce, written against the connector SDK (``linkmesh_core.sdk``): customers by email,
phone (each of the forms a store keeps it in) or order number, their orders with lines,
shipments and product links, and the order actions (``actions``) with their resolution."""

from __future__ import annotations

import asyncio
import re

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce import actions, mapping, resolve, webhooks
from linkmesh_bigcommerce.client import DEFAULT_API_BASE_URL, BigCommerceClient, Store
from linkmesh_bigcommerce.early import EarlyShipments
from linkmesh_core import paging, sdk
from linkmesh_core.app_settings import check_region, check_secret, check_url, region_of
from linkmesh_core.contact_points import email_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.money import to_decimal
from linkmesh_core.paging import Listing
from linkmesh_core.vendor_http import Deadline

log = structlog.get_logger("linkmesh.bigcommerce")
STORE_HASH_RE = re.compile(r"^[a-z0-9]{5,20}$")
DEFAULT_MAX_ORDERS = 10

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


def store_of(app: sdk.App) -> Store:
    """The app's store; ``SettingsInvalid`` names each setting that is wrong."""
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
        raise sdk.SettingsInvalid(errors)
    return Store(base, store_hash, token)


class BigCommerce(sdk.Connector[Store]):
    description = sdk.Description(
        vendor="bigcommerce",
        display_name="BigCommerce",
        search_by=("email", "phone", "order_number"),
        auto_link_by=("email", "phone"),
        settings=SETTINGS,
        actions=actions.ACTIONS,
    )
    refusals = {
        grpc.StatusCode.UNAUTHENTICATED: ("access_token", "BigCommerce refused this token"),
        grpc.StatusCode.NOT_FOUND: ("store_hash", "BigCommerce knows no store with this hash"),
    }

    def __init__(self, client: BigCommerceClient) -> None:
        self.client = client

    def account(self, app: sdk.App) -> Store:
        return store_of(app)

    async def prove(self, store: Store, deadline: Deadline) -> None:
        await self.client.store_info(store, deadline, fresh=True)

    async def search(self, store: Store, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        if query.order_number:
            return await self._by_order(store, query, deadline)
        # One request per field: BigCommerce ANDs filters given together.
        calls = []
        if query.emails:
            calls.append(self.client.customers(store, deadline, email=list(query.emails)))
        if query.phones:
            variants = [v for p in query.phones for v in mapping.phone_variants(p)]
            calls.append(self.client.customers(store, deadline, phone=variants))
        found: dict[int, dict] = {}
        for batch in await asyncio.gather(*calls):
            for c in batch:
                found.setdefault(int(c["id"]), c)
        wanted_emails, wanted_phones = set(query.emails), set(query.phones)
        candidates = []
        for c in sorted(found.values(), key=lambda c: int(c["id"])):
            s = mapping.summary(c, query.region)
            if any(email_key(e) in wanted_emails for e in s.emails) or any(p.number in wanted_phones for p in s.phones):
                candidates.append(s)
        return candidates

    async def _by_order(self, store: Store, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        """The order id is the order number; a guest order (customer_id 0) names its buyer by the billing email only."""
        if not query.order_number.isdigit():
            raise invalid_argument("a BigCommerce order number is a number", {"order_number": "must be a number (e.g. 5001)"})
        order = await self.client.order_or_none(store, query.order_number, deadline)
        if order is None:
            return []
        if int(order.get("customer_id") or 0):
            buyers = await self.client.customers(store, deadline, id=[str(order["customer_id"])])
        else:
            email = str((order.get("billing_address") or {}).get("email") or "").strip()
            buyers = await self.client.customers(store, deadline, email=[email]) if email else []
        return [mapping.summary(c, query.region) for c in buyers]

    async def fetch(self, store: Store, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        external_id = request.external_id.strip()
        if not external_id.isdigit():
            raise invalid_argument("external_id must be a BigCommerce customer id", {"external_id": "must be a number"})
        max_orders = min(request.max_orders if request.max_orders > 0 else DEFAULT_MAX_ORDERS, 50)
        early = EarlyShipments(self.client, store, request.known, max_orders, deadline)
        try:
            found, info, listing = await asyncio.gather(
                self.client.customers(store, deadline, id=[external_id]),
                self.client.store_info(store, deadline),
                self.client.recent_orders(store, external_id, max_orders, deadline),
            )
            if not found:
                raise ServiceError(grpc.StatusCode.NOT_FOUND, f"BigCommerce has no customer {request.external_id}")
            control_panel = str(info.get("control_panel_base_url") or "").rstrip("/")
            group_id = int(found[0].get("customer_group_id") or 0)
            mapped, group = await asyncio.gather(
                self._orders(store, listing.items, control_panel, str(info.get("secure_url") or ""), deadline, early),
                self.client.customer_group_name(store, group_id, deadline) if group_id else asyncio.sleep(0, ""),
            )
        finally:
            early.close()
        customer = mapping.customer(found[0], mapped, control_panel=control_panel, region=region_of(request.app), group=group)
        if not listing.complete and len(listing.items) < max_orders:
            customer.partial.append(paging.ORDERS)
        return customer

    async def _orders(
        self, store: Store, orders: list[dict], control_panel: str, storefront: str, deadline: Deadline, early: EarlyShipments
    ) -> list[lookup_pb2.Order]:
        """Each order with its lines, its shipments and its products' links, read concurrently."""
        details = await asyncio.gather(
            *(asyncio.gather(self._lines(store, o, deadline), self._shipments(store, o, deadline, early)) for o in orders)
        )
        product_ids = [int(p["product_id"]) for products, _ in details for p in products.items if p.get("product_id")]
        paths, all_products = await self.client.catalog_urls(store, product_ids, deadline)
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
        return mapped

    async def _lines(self, store: Store, order: dict, deadline: Deadline) -> Listing[dict]:
        """The order's lines as its consignments carry them, else from ``/products``."""
        embedded = mapping.lines_of(order)
        return Listing(embedded) if embedded is not None else await self.client.order_products(store, order["id"], deadline)

    async def _shipments(self, store: Store, order: dict, deadline: Deadline, early: EarlyShipments) -> Listing[dict]:
        """An order with nothing shipped has no shipments: no call is spent on it
        (the store's rate limit is shared by every app). Those read early (``EarlyShipments``)
        serve when they account for every item the order says is shipped."""
        shipped = to_decimal(order.get("items_shipped"))
        if not shipped:
            return Listing()
        found = await early.take(int(order["id"]), shipped)
        return found if found is not None else await self.client.order_shipments(store, order["id"], deadline)

    async def run_action(self, store: Store, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
        return await actions.run(self.client, store, request, deadline)

    async def resolve_action(
        self, store: Store, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
    ) -> lookup_pb2.ResolveActionResponse:
        return await resolve.resolve(self.client, store, request, deadline)

    async def subscribe(self, store: Store, request: lookup_pb2.SubscribeRequest, deadline: Deadline) -> lookup_pb2.SubscribeResponse:
        return await webhooks.subscribe(self.client, store, request, deadline)

    async def unsubscribe(self, store: Store, request: lookup_pb2.UnsubscribeRequest, deadline: Deadline) -> lookup_pb2.UnsubscribeResponse:
        return await webhooks.unsubscribe(self.client, store, request, deadline)

    async def read_delivery(self, store: Store, request: lookup_pb2.ReadDeliveryRequest, deadline: Deadline) -> lookup_pb2.Change:
        return webhooks.read(store, request, request.callback_url)

    async def list_changes(
        self, store: Store, request: lookup_pb2.ListChangesRequest, deadline: Deadline
    ) -> lookup_pb2.ListChangesResponse:
        return await webhooks.changes(self.client, store, request, deadline)
