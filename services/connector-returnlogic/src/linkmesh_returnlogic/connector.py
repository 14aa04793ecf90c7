"""ReturnLogic, written against the connector SDK (``linkmesh_core.sdk``). A ReturnLogic
customer is their email: search and auto-link are by email (an order number finds its buyer)."""

from __future__ import annotations

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging, sdk
from linkmesh_core.app_settings import check_secret, check_url
from linkmesh_core.contact_points import email_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.resolution import applied, not_applied, since, when
from linkmesh_core.timestamps import from_iso
from linkmesh_core.vendor_http import Deadline
from linkmesh_returnlogic import mapping
from linkmesh_returnlogic.client import DEFAULT_API_BASE_URL, DEFAULT_APP_BASE_URL, Account, ReturnLogicClient

ACTIONS = [
    lookup_pb2.ActionSpec(
        name="start_return",
        label="Start a return",
        order_required=True,
        fields=[],
        effect="Opens ReturnLogic's page to start a return for the order (its API cannot create one); nothing is refunded yet.",
    )
]
SETTINGS = [
    lookup_pb2.SettingSpec(name="api_key", label="API key", required=True, secret=True, hint="A ReturnLogic API key (sent as Bearer)."),
    lookup_pb2.SettingSpec(
        name="api_base_url",
        label="API base URL",
        required=False,
        default_value=DEFAULT_API_BASE_URL,
        hint="Leave empty for ReturnLogic itself; set it to point at a sandbox or proxy.",
        credentials_destination=True,
    ),
    lookup_pb2.SettingSpec(
        name="app_base_url",
        label="ReturnLogic app URL",
        required=False,
        default_value=DEFAULT_APP_BASE_URL,
        hint="Where agents open RMAs (the link on the profile).",
    ),
]


def app_base(app: sdk.App) -> str:
    return app.settings.get("app_base_url", "").strip() or DEFAULT_APP_BASE_URL


class ReturnLogic(sdk.Connector[Account]):
    description = sdk.Description(
        vendor="returnlogic",
        display_name="ReturnLogic",
        search_by=("email", "order_number"),
        auto_link_by=("email",),
        settings=SETTINGS,
        actions=ACTIONS,
        result_attributes=[lookup_pb2.ResultAttribute(attribute="rma_codes", label="RMAs")],
    )
    refusals = {
        grpc.StatusCode.UNAUTHENTICATED: ("api_key", "ReturnLogic refused this API key"),
        grpc.StatusCode.NOT_FOUND: ("api_base_url", "no ReturnLogic API answers at this URL"),
    }

    def __init__(self, client: ReturnLogicClient) -> None:
        self.client = client

    def account(self, app: sdk.App) -> Account:
        errors: dict[str, str] = {}
        base = check_url(app, "api_base_url", errors, default=DEFAULT_API_BASE_URL)
        check_url(app, "app_base_url", errors)
        key = check_secret(app, "api_key", errors)
        if errors:
            raise sdk.SettingsInvalid(errors)
        return Account(base, key)

    async def prove(self, account: Account, deadline: Deadline) -> None:
        await self.client.probe(account, deadline)

    async def search(self, account: Account, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        emails = list(query.emails)
        if query.order_number:
            # A ReturnLogic customer is an email: the order's buyer, with or without a store account.
            order = await self.client.order_by_number(account, query.order_number, deadline)
            buyer = email_key(str((order or {}).get("customerEmail") or ""))
            if "@" in buyer and buyer not in emails:
                emails.append(buyer)
        candidates = []
        for email in emails:  # one at a time: the key allows 2 requests a second
            rmas = (await self.client.rmas(account, email, deadline)).items
            orders = [] if rmas else await self.client.orders(account, email, deadline)
            if rmas or orders:
                candidates.append(mapping.summary(email, rmas, orders))
        return candidates

    async def fetch(self, account: Account, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        email = email_key(request.external_id)
        if "@" not in email:
            raise invalid_argument("external_id must be the customer's email", {"external_id": "must be an email"})
        listing = await self.client.rmas(account, email, deadline, strict=False)
        orders = [] if listing.items else await self.client.orders(account, email, deadline)
        if not listing.items and not orders:
            raise ServiceError(grpc.StatusCode.NOT_FOUND, f"ReturnLogic has no returns or orders for {email}")
        customer = mapping.customer(email, listing.items, orders, app_base(request.app))
        if not listing.complete:
            customer.partial.append(paging.RETURNS)
        return customer

    async def run_action(self, account: Account, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
        """``start_return``: ReturnLogic's public API reads RMAs but cannot create one, so the
        answer is the link that starts the return in ReturnLogic for this order and customer."""
        email = email_key(request.external_customer_id)
        number = request.order_id.strip().lstrip("#")
        order = await self.client.order_by_number(account, number, deadline)
        if order is None or email_key(str(order.get("customerEmail") or "")) != email:
            raise ServiceError(grpc.StatusCode.NOT_FOUND, f"order {number} is not an order of this customer in ReturnLogic")
        url = mapping.start_return_link(app_base(request.app), number, email)
        return lookup_pb2.RunActionResponse(
            message=f"Open ReturnLogic to start the return for order {number} (its API cannot create returns)", result={"url": url}
        )

    async def resolve_action(
        self, account: Account, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
    ) -> lookup_pb2.ResolveActionResponse:
        """``start_return`` writes nothing to ReturnLogic (its answer is a link): an RMA made for
        the order since the request was sent means the return was started (APPLIED, with its
        code); none means it was not, and asking again gives the link again (NOT_APPLIED)."""
        email = email_key(request.external_customer_id)
        number = request.order_id.strip().lstrip("#")
        after = since(request)
        rmas = await self.client.rmas(account, email, deadline)
        made = [
            r
            for r in rmas.items
            if str(r.get("orderNumber") or "").lstrip("#") == number
            and (t := when(from_iso((r.get("timeline") or {}).get("createDate")))) is not None
            and t >= after
        ]
        if not made:
            return not_applied(f"no return was started in ReturnLogic for order {number} since the request was sent")
        codes = ", ".join(str(r.get("rlRmaId") or r.get("id") or "") for r in made)
        return applied(f"Return {codes} started in ReturnLogic for order {number}", {"rma": codes})
