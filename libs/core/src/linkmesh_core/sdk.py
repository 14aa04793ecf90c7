"""The connector SDK: what a connector's author writes, and the Lookup contract linkmesh serves from it.

A connector subclasses ``Connector`` and writes typed methods; it never sees gRPC::

    class Acme(sdk.Connector[AcmeAccount]):
        description = sdk.Description(vendor="acme", display_name="Acme", search_by=("email",), settings=[...])

        def account(self, app: sdk.App) -> AcmeAccount: ...          # settings and secrets, checked
        async def prove(self, account, deadline) -> None: ...         # one real call with them
        async def search(self, account, query, deadline) -> list[lookup_pb2.CustomerSummary]: ...
        async def fetch(self, account, request, deadline) -> lookup_pb2.Customer: ...

    def main() -> None:
        sdk.serve("connector-acme", lambda s: VendorHTTP("Acme", ...), lambda http: Acme(AcmeClient(http)))

What the SDK does once for every connector:

- ``Describe`` answers the description, built once from the class's declaration;
- ``ValidateApp`` reads the app's settings (``account``: a ``SettingsInvalid`` names the fields),
  then proves the credentials with ``prove`` and maps the vendor's refusals onto the fields
  they concern (``refusals``);
- ``Search`` parses the query once into a ``Query``: emails as keys, phones in E.164 for the
  app's region, the order number trimmed; a field the connector cannot search by is refused,
  naming the field, before the connector is called; ``query.first`` is how many candidates to
  ask for (two when a unique match matters: an auto-link);
- ``RunAction`` checks the request against the declared actions' forms before ``run_action``
  (an action a linked record offers, named by its ``form_url``, is the connector's to check
  against the form it reads);
- ``ResolveAction`` and ``GetActionForm`` answer UNIMPLEMENTED unless the connector writes
  ``resolve_action`` and ``action_form``;
- errors: raise ``linkmesh_core.errors`` (``not_found``, ``invalid_argument``, ...); the vendor
  HTTP client's errors pass through with their outcome (never sent, or unknown).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import grpc
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc

from linkmesh_core.actions import check_action
from linkmesh_core.app_settings import region_of
from linkmesh_core.connector import ConnectorSettings, LookupServicer, run_connector
from linkmesh_core.contact_points import email_key, phone_key
from linkmesh_core.each import answer_each
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.request_context import RequestContextInterceptor
from linkmesh_core.vendor_http import Deadline, VendorHTTP

Account = TypeVar("Account")
App = lookup_pb2.AppContext
FIELDS = {
    "email": lookup_pb2.LOOKUP_FIELD_EMAIL,
    "phone": lookup_pb2.LOOKUP_FIELD_PHONE,
    "order_number": lookup_pb2.LOOKUP_FIELD_ORDER_NUMBER,
}
QUERY_FIELDS = {"email": "emails", "phone": "phones", "order_number": "order_number"}
ARTICLED = {"email": "an email", "phone": "a phone", "order_number": "an order number"}


class JsonErrors:
    """The vendor's message from a JSON error body (``message``, ``error``, ``detail`` or
    ``title``, a string or an object holding one), for a VendorHTTP whose vendor has no
    error format of its own to read."""

    KEYS = ("message", "error", "detail", "title")

    def message(self, status: int, body: Any) -> str:
        for key in self.KEYS:
            value = body.get(key) if isinstance(body, dict) else None
            if isinstance(value, dict):
                value = next((value[k] for k in self.KEYS if isinstance(value.get(k), str)), None)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return body.strip()[:200] if isinstance(body, str) else ""


class SettingsInvalid(Exception):
    """An app's settings or secrets a connector cannot use: ``{field: why}``."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("the app's settings are invalid")
        self.errors = dict(errors)


@dataclass(frozen=True)
class Description:
    """Who the connector is and what it can do: Describe's answer, declared once."""

    vendor: str
    display_name: str
    search_by: tuple[str, ...] = ("email",)
    auto_link_by: tuple[str, ...] = ("email",)
    settings: Sequence[lookup_pb2.SettingSpec] = ()
    actions: Sequence[lookup_pb2.ActionSpec] = ()
    result_attributes: Sequence[lookup_pb2.ResultAttribute] = ()
    #: How errors name the vendor ("could not reach ..."): the display name unless said.
    called: str = ""

    def message(self) -> lookup_pb2.DescribeResponse:
        return lookup_pb2.DescribeResponse(
            vendor=self.vendor,
            display_name=self.display_name,
            capabilities=lookup_pb2.Capabilities(
                search_fields=[FIELDS[f] for f in self.search_by],
                auto_link_fields=[FIELDS[f] for f in self.auto_link_by],
                actions=list(self.actions),
                result_attributes=list(self.result_attributes),
            ),
            settings=list(self.settings),
        )


@dataclass(frozen=True)
class Query:
    """A search, parsed once: what to look for, and how many candidates to ask the vendor for."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    order_number: str = ""
    first: int = 10
    auto_link: bool = False
    #: The region a phone number without a country code is read in (the app's ``default_region``).
    region: str = "US"
    #: The linkmesh profile the search is for (an auto-link), for vendors whose protocol takes it.
    profile: lookup_pb2.ProfileHint = field(default_factory=lookup_pb2.ProfileHint)


def parse_query(request: lookup_pb2.SearchRequest, description: Description) -> Query:
    """The request's emails, phones and order number, normalised; INVALID_ARGUMENT naming a
    field the connector cannot search by, a phone that is not one, or an empty query."""
    emails = tuple(dict.fromkeys(email_key(e) for e in request.emails if e.strip()))
    phones: list[str] = []
    for raw in request.phones:
        key = phone_key(raw, region_of(request.app))
        if key is None:
            raise invalid_argument("the search query is invalid", {"phones": f"{raw!r} is not a valid phone number"})
        phones.append(key)
    order_number = request.order_number.strip().lstrip("#").strip()
    given = {"email": bool(emails), "phone": bool(phones), "order_number": bool(order_number)}
    can = " or ".join(f.replace("_", " ") for f in description.search_by)
    articled = " or ".join(ARTICLED[f] for f in description.search_by)
    for name, present in given.items():
        if present and name not in description.search_by:
            raise invalid_argument(
                f"{description.display_name} searches by {can}", {QUERY_FIELDS[name]: f"{description.display_name} searches by {can}"}
            )
    if not any(given.values()):
        raise invalid_argument(f"give {articled}", {QUERY_FIELDS[description.search_by[0]]: f"give {articled}"})
    first = 2 if request.auto_link else max(request.limit, 2) if request.limit > 0 else 10
    return Query(emails, tuple(dict.fromkeys(phones)), order_number, first, request.auto_link, region_of(request.app), request.profile)


class Connector(Generic[Account]):
    """What a connector's author writes (see the module's documentation)."""

    description: Description
    #: ValidateApp: a vendor refusal of the credentials, as (field or fields, message), by status code.
    refusals: Mapping[grpc.StatusCode, tuple[str | tuple[str, ...], str]] = {}
    #: ValidateApp: the setting an unreachable vendor is said of.
    base_url_field = "api_base_url"

    def refusals_for(self, account: Account) -> Mapping[grpc.StatusCode, tuple[str | tuple[str, ...], str]]:
        """The refusals as they read for this account (``refusals`` unless written)."""
        return self.refusals

    def account(self, app: App) -> Account:
        raise NotImplementedError

    async def prove(self, account: Account, deadline: Deadline) -> None:
        raise NotImplementedError

    async def search(self, account: Account, query: Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        raise NotImplementedError

    async def fetch(self, account: Account, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        """``request``: the external id, the app, how many orders to show (``max_orders``, 0: the app's setting)."""
        raise NotImplementedError

    async def run_action(self, account: Account, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} has no actions")

    async def resolve_action(
        self, account: Account, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
    ) -> lookup_pb2.ResolveActionResponse:
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} cannot be asked whether an action took effect")

    async def action_form(self, account: Account, request: lookup_pb2.GetActionFormRequest, deadline: Deadline) -> lookup_pb2.ActionForm:
        """The form of an action a record offers (a custom lookup adaptor's); a connector whose
        actions are declared in its description, fields and all, serves none."""
        raise ServiceError(
            grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} declares its actions' forms in Describe; it serves none"
        )

    # Change events (webhooks): a connector whose vendor sends them writes these three.

    async def subscribe(self, account: Account, request: lookup_pb2.SubscribeRequest, deadline: Deadline) -> lookup_pb2.SubscribeResponse:
        """Registers what is missing of the app's subscriptions to ``request.callback_url``; answers all of them."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} sends no change events")

    async def unsubscribe(
        self, account: Account, request: lookup_pb2.UnsubscribeRequest, deadline: Deadline
    ) -> lookup_pb2.UnsubscribeResponse:
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} sends no change events")

    async def read_delivery(self, account: Account, request: lookup_pb2.ReadDeliveryRequest, deadline: Deadline) -> lookup_pb2.Change:
        """The delivery's signature checked (``ServiceError`` UNAUTHENTICATED when it does not
        hold), and what it says changed."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} sends no change events")

    async def list_changes(
        self, account: Account, request: lookup_pb2.ListChangesRequest, deadline: Deadline
    ) -> lookup_pb2.ListChangesResponse:
        """What changed after ``request.since``, oldest first, a page at a time."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.description.display_name} offers no list of what changed")


class LookupAdapter(LookupServicer, Generic[Account]):
    """The Lookup contract, served from a ``Connector``."""

    def __init__(self, connector: Connector[Account], default_timeout: float) -> None:
        super().__init__(connector, default_timeout)
        self.connector = connector
        self.vendor_name = connector.description.called or connector.description.display_name
        self._describe = connector.description.message()

    def _settings_problems(self, app: App) -> dict[str, str]:
        """The declared settings and secrets an app lacks, then what the connector's ``account`` says of the rest."""
        errors = {
            spec.name: "is required"
            for spec in self.connector.description.settings
            if spec.required and not ((app.secrets if spec.secret else app.settings).get(spec.name) or "").strip()
        }
        try:
            self.connector.account(app)
        except SettingsInvalid as exc:
            for name, why in exc.errors.items():
                errors.setdefault(name, why)
        return errors

    def _account(self, app: App) -> Account:
        try:
            return self.connector.account(app)
        except SettingsInvalid:
            raise invalid_argument("the app's settings are invalid", self._settings_problems(app)) from None

    async def Describe(self, request: lookup_pb2.DescribeRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.DescribeResponse:
        return self._describe

    async def ValidateApp(
        self, request: lookup_pb2.ValidateAppRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ValidateAppResponse:
        errors = self._settings_problems(request.app)
        account = None if errors else self.connector.account(request.app)
        deadline = self.deadline(context)
        probe = (lambda: self.connector.prove(account, deadline)) if account is not None else None
        refusals = self.connector.refusals_for(account) if account is not None else self.connector.refusals
        return await self.proven(errors, probe, refusals, base_url_field=self.connector.base_url_field)

    async def Search(self, request: lookup_pb2.SearchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.SearchResponse:
        return await self._search(request, self.deadline(context))

    async def SearchEach(
        self, request: lookup_pb2.SearchEachRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[lookup_pb2.SearchOutcomes]:
        deadline = self.deadline(context)
        each = answer_each(
            request.searches,
            functools.partial(self._search, deadline=deadline),
            lookup_pb2.SearchOutcome,
            lookup_pb2.SearchOutcomes,
            "searches",
        )
        async for outcome in each:
            yield outcome

    async def _search(self, request: lookup_pb2.SearchRequest, deadline: Deadline) -> lookup_pb2.SearchResponse:
        account = self._account(request.app)
        query = parse_query(request, self.connector.description)
        candidates = await self.connector.search(account, query, deadline)
        return lookup_pb2.SearchResponse(candidates=candidates[: request.limit] if request.limit > 0 else candidates)

    async def Fetch(self, request: lookup_pb2.FetchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.FetchResponse:
        return await self._fetch(request, self.deadline(context))

    async def FetchEach(
        self, request: lookup_pb2.FetchEachRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[lookup_pb2.FetchOutcomes]:
        deadline = self.deadline(context)
        each = answer_each(
            request.fetches, functools.partial(self._fetch, deadline=deadline), lookup_pb2.FetchOutcome, lookup_pb2.FetchOutcomes, "fetches"
        )
        async for outcome in each:
            yield outcome

    async def _fetch(self, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.FetchResponse:
        account = self._account(request.app)
        return lookup_pb2.FetchResponse(customer=await self.connector.fetch(account, request, deadline))

    async def RunAction(self, request: lookup_pb2.RunActionRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.RunActionResponse:
        account = self._account(request.app)
        if not request.form_url.strip():
            check_action(list(self.connector.description.actions), request)
        return await self.connector.run_action(account, request, self.deadline(context))

    async def ResolveAction(
        self, request: lookup_pb2.ResolveActionRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ResolveActionResponse:
        return await self.connector.resolve_action(self._account(request.app), request, self.deadline(context))

    async def GetActionForm(self, request: lookup_pb2.GetActionFormRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.ActionForm:
        return await self.connector.action_form(self._account(request.app), request, self.deadline(context))

    async def Subscribe(self, request: lookup_pb2.SubscribeRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.SubscribeResponse:
        return await self.connector.subscribe(self._account(request.app), request, self.deadline(context))

    async def Unsubscribe(
        self, request: lookup_pb2.UnsubscribeRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.UnsubscribeResponse:
        return await self.connector.unsubscribe(self._account(request.app), request, self.deadline(context))

    async def ReadDelivery(
        self, request: lookup_pb2.ReadDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ReadDeliveryResponse:
        return lookup_pb2.ReadDeliveryResponse(
            change=await self.connector.read_delivery(self._account(request.app), request, self.deadline(context))
        )

    async def ListChanges(
        self, request: lookup_pb2.ListChangesRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ListChangesResponse:
        return await self.connector.list_changes(self._account(request.app), request, self.deadline(context))


def serve(
    name: str,
    make_http: Callable[[ConnectorSettings], VendorHTTP],
    make_connector: Callable[[VendorHTTP], Connector[Account]],
    *,
    max_timeout_s: float | None = None,
) -> None:
    """Runs the connector until SIGTERM: one vendor HTTP client, the Lookup contract served from
    ``make_connector``; a vendor call waits at most the configured timeout, or ``max_timeout_s``
    where the vendor's protocol sets a shorter one."""
    run_connector(
        name,
        make_http,
        lambda http, settings: LookupAdapter(
            make_connector(http), min(settings.vendor_timeout_s, max_timeout_s or settings.vendor_timeout_s)
        ),
    )


@asynccontextmanager
async def in_process(
    connector: Connector[Account], http: VendorHTTP, timeout: float = 5.0
) -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    """The connector served on a local port as in production (errors answered as rich statuses,
    the vendor client started and closed), for a connector's own tests: the Lookup client."""
    await http.start()
    server = grpc.aio.server(interceptors=[RequestContextInterceptor()])
    lookup_pb2_grpc.add_LookupServiceServicer_to_server(LookupAdapter(connector, timeout), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield lookup_pb2_grpc.LookupServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0)
        await http.close()
