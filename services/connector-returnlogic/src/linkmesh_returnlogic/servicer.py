"""The Lookup service for ReturnLogic. A ReturnLogic customer is their email:
search and auto-link are by email only."""

from __future__ import annotations

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging
from linkmesh_core.actions import check_action
from linkmesh_core.app_settings import check_secret, check_url, require
from linkmesh_core.connector import LookupServicer
from linkmesh_core.contact_points import email_key
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.resolution import applied, not_applied, since, when
from linkmesh_core.timestamps import from_iso
from linkmesh_returnlogic import mapping
from linkmesh_returnlogic.client import DEFAULT_API_BASE_URL, DEFAULT_APP_BASE_URL, Account, ReturnLogicClient

F = lookup_pb2.LookupField
ACTIONS = [
    lookup_pb2.ActionSpec(name="start_return", label="Start a return", order_required=True, fields=[]),
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


def account_from(app: lookup_pb2.AppContext) -> tuple[Account | None, dict[str, str]]:
    errors: dict[str, str] = {}
    base = check_url(app, "api_base_url", errors, default=DEFAULT_API_BASE_URL)
    check_url(app, "app_base_url", errors)
    key = check_secret(app, "api_key", errors)
    if errors:
        return None, errors
    return Account(base, key), {}


def require_account(app: lookup_pb2.AppContext) -> Account:
    return require(account_from(app))


def app_base(app: lookup_pb2.AppContext) -> str:
    return app.settings.get("app_base_url", "").strip() or DEFAULT_APP_BASE_URL


class ReturnLogicLookup(LookupServicer):
    vendor_name = "ReturnLogic's API"
    client: ReturnLogicClient

    async def Describe(self, request: lookup_pb2.DescribeRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.DescribeResponse:
        return lookup_pb2.DescribeResponse(
            vendor="returnlogic",
            display_name="ReturnLogic",
            capabilities=lookup_pb2.Capabilities(
                search_fields=[F.LOOKUP_FIELD_EMAIL, F.LOOKUP_FIELD_ORDER_NUMBER],
                auto_link_fields=[F.LOOKUP_FIELD_EMAIL],
                actions=ACTIONS,
                result_attributes=[lookup_pb2.ResultAttribute(attribute="rma_codes", label="RMAs")],
            ),
            settings=SETTINGS,
        )

    async def ValidateApp(
        self, request: lookup_pb2.ValidateAppRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ValidateAppResponse:
        account, errors = account_from(request.app)
        probe = (lambda: self.client.probe(account, self.deadline(context))) if account else None
        return await self.proven(
            errors,
            probe,
            {
                grpc.StatusCode.UNAUTHENTICATED: ("api_key", "ReturnLogic refused this API key"),
                grpc.StatusCode.NOT_FOUND: ("api_base_url", "no ReturnLogic API answers at this URL"),
            },
        )

    async def Search(self, request: lookup_pb2.SearchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.SearchResponse:
        account = require_account(request.app)
        if request.phones:
            raise invalid_argument(
                "ReturnLogic searches by email or order number", {"phones": "ReturnLogic searches by email or order number"}
            )
        emails = list(dict.fromkeys(email_key(e) for e in request.emails if e.strip()))
        order_number = request.order_number.strip().lstrip("#").strip()
        if not emails and not order_number:
            raise invalid_argument("give an email or an order number", {"emails": "give an email or an order number"})
        deadline = self.deadline(context)
        if order_number:
            # A ReturnLogic customer is an email: the order's buyer, with or without a store account.
            order = await self.client.order_by_number(account, order_number, deadline)
            buyer = email_key(str((order or {}).get("customerEmail") or ""))
            if "@" in buyer and buyer not in emails:
                emails.append(buyer)
        candidates = []
        for email in emails:  # one at a time: the key allows 2 requests a second
            rmas = (await self.client.rmas(account, email, deadline)).items
            orders = [] if rmas else await self.client.orders(account, email, deadline)
            if rmas or orders:
                candidates.append(mapping.summary(email, rmas, orders))
        return lookup_pb2.SearchResponse(candidates=candidates[: request.limit] if request.limit > 0 else candidates)

    async def Fetch(self, request: lookup_pb2.FetchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.FetchResponse:
        account = require_account(request.app)
        email = email_key(request.external_id)
        if "@" not in email:
            raise invalid_argument("external_id must be the customer's email", {"external_id": "must be an email"})
        deadline = self.deadline(context)
        listing = await self.client.rmas(account, email, deadline, strict=False)
        rmas = listing.items
        orders = [] if rmas else await self.client.orders(account, email, deadline)
        if not rmas and not orders:
            raise ServiceError(grpc.StatusCode.NOT_FOUND, f"ReturnLogic has no returns or orders for {email}")
        customer = mapping.customer(email, rmas, orders, app_base(request.app))
        if not listing.complete:
            customer.partial.append(paging.RETURNS)
        return lookup_pb2.FetchResponse(customer=customer)

    async def RunAction(self, request: lookup_pb2.RunActionRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.RunActionResponse:
        """``start_return``: ReturnLogic's public API reads RMAs but cannot create one, so the
        answer is the link that starts the return in ReturnLogic for this order and customer."""
        account = require_account(request.app)
        check_action(ACTIONS, request)
        email = email_key(request.external_customer_id)
        number = request.order_id.strip().lstrip("#")
        order = await self.client.order_by_number(account, number, self.deadline(context))
        if order is None or email_key(str(order.get("customerEmail") or "")) != email:
            raise ServiceError(grpc.StatusCode.NOT_FOUND, f"order {number} is not an order of this customer in ReturnLogic")
        url = mapping.start_return_link(app_base(request.app), number, email)
        return lookup_pb2.RunActionResponse(
            message=f"Open ReturnLogic to start the return for order {number} (its API cannot create returns)", result={"url": url}
        )

    async def ResolveAction(
        self, request: lookup_pb2.ResolveActionRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ResolveActionResponse:
        """``start_return`` writes nothing to ReturnLogic (its answer is a link): an RMA made for
        the order since the request was sent means the return was started (APPLIED, with its
        code); none means it was not, and asking again gives the link again (NOT_APPLIED)."""
        account = require_account(request.app)
        email = email_key(request.external_customer_id)
        number = request.order_id.strip().lstrip("#")
        after = since(request)
        rmas = await self.client.rmas(account, email, self.deadline(context))
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
