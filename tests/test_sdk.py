"""The connector SDK: a read-only connector written against it, served over real gRPC from a
real HTTP vendor (a small aiohttp server), answers the Lookup contract as linkmesh expects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
import pytest
from aiohttp import web
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import sdk
from linkmesh_core.app_settings import check_secret, check_url
from linkmesh_core.errors import NOT_SENT, ServiceError, not_found
from linkmesh_core.vendor_http import Deadline, VendorHTTP
from tests.inprocess import running

PEOPLE = {"ada@example.com": {"id": "7", "name": "Ada Lovelace", "phone": "+14155550107"}}
TOKEN = "phonebook-token-0123"


@dataclass(frozen=True)
class Account:
    base: str
    token: str


# A read-only connector, whole: its declaration, its settings, a credentials check, search and fetch.
class Phonebook(sdk.Connector[Account]):
    description = sdk.Description(
        vendor="phonebook",
        display_name="Phonebook",
        search_by=("email", "phone"),
        auto_link_by=("email",),
        settings=[
            lookup_pb2.SettingSpec(name="api_base_url", label="API base URL", required=True, credentials_destination=True),
            lookup_pb2.SettingSpec(name="token", label="Token", required=True, secret=True),
        ],
    )
    refusals = {grpc.StatusCode.UNAUTHENTICATED: ("token", "Phonebook refused this token")}

    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    def account(self, app: sdk.App) -> Account:
        errors: dict[str, str] = {}
        base, token = check_url(app, "api_base_url", errors), check_secret(app, "token", errors)
        if errors:
            raise sdk.SettingsInvalid(errors)
        return Account(base, token)

    async def _get(self, account: Account, path: str, deadline: Deadline) -> dict:
        headers = {"Authorization": f"Bearer {account.token}"}
        return await self.http.request("GET", f"{account.base}{path}", bucket=account.base, deadline=deadline, headers=headers)

    async def prove(self, account: Account, deadline: Deadline) -> None:
        await self._get(account, "/people", deadline)

    async def search(self, account: Account, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        people = (await self._get(account, "/people", deadline))["people"]
        return [
            lookup_pb2.CustomerSummary(external_id=p["id"], name=p["name"], emails=[email])
            for email, p in people.items()
            if email in query.emails or p["phone"] in query.phones
        ][: query.first]

    async def fetch(self, account: Account, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        people = (await self._get(account, "/people", deadline))["people"]
        for email, p in people.items():
            if p["id"] == request.external_id:
                return lookup_pb2.Customer(external_id=p["id"], name=p["name"], emails=[email])
        raise not_found(f"Phonebook has no person {request.external_id}")


async def people(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"error": "bad token"}, status=401)
    return web.json_response({"people": PEOPLE})


@asynccontextmanager
async def phonebook() -> AsyncIterator[tuple[sdk.App, object]]:
    vendor = web.Application()
    vendor.router.add_get("/people", people)
    async with running(vendor) as sandbox:
        http = VendorHTTP("Phonebook", errors=sdk.JsonErrors(), allow_private_hosts=True)
        async with sdk.in_process(Phonebook(http), http) as stub:
            yield lookup_pb2.AppContext(settings={"api_base_url": sandbox.url}, secrets={"token": TOKEN}), stub


async def test_a_read_only_connector_answers_describe_validate_search_and_fetch() -> None:
    async with phonebook() as (app, stub):
        described = await stub.Describe(lookup_pb2.DescribeRequest())  # type: ignore[attr-defined]
        assert described.display_name == "Phonebook" and [s.name for s in described.settings] == ["api_base_url", "token"]
        assert list(described.capabilities.search_fields) == [lookup_pb2.LOOKUP_FIELD_EMAIL, lookup_pb2.LOOKUP_FIELD_PHONE]
        ok = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=app))  # type: ignore[attr-defined]
        assert ok.ok
        found = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["  ADA@example.com "]))  # type: ignore[attr-defined]
        assert [c.external_id for c in found.candidates] == ["7"], "the email is normalised before the connector sees it"
        by_phone = await stub.Search(lookup_pb2.SearchRequest(app=app, phones=["(415) 555-0107"]))  # type: ignore[attr-defined]
        assert [c.external_id for c in by_phone.candidates] == ["7"], "the phone in E.164 for the app's region"
        fetched = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7"))  # type: ignore[attr-defined]
        assert fetched.customer.name == "Ada Lovelace"
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="8"))  # type: ignore[attr-defined]
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        for rpc, request in (
            ("ResolveAction", lookup_pb2.ResolveActionRequest(app=app)),
            ("GetActionForm", lookup_pb2.GetActionFormRequest(app=app)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as unwritten:
                await getattr(stub, rpc)(request)
            assert unwritten.value.code() == grpc.StatusCode.UNIMPLEMENTED, f"{rpc}: what the connector did not write says so"


async def test_bad_settings_and_refused_credentials_name_their_fields() -> None:
    async with phonebook() as (app, stub):
        empty = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=lookup_pb2.AppContext()))  # type: ignore[attr-defined]
        assert {e.field for e in empty.errors} == {"api_base_url", "token"} and not empty.ok
        malformed = lookup_pb2.AppContext(settings={"api_base_url": "not a url"}, secrets={"token": TOKEN})
        named = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=malformed))  # type: ignore[attr-defined]
        assert [e.field for e in named.errors] == ["api_base_url"], "a present but unusable setting, named by the connector"
        wrong = lookup_pb2.AppContext(settings=dict(app.settings), secrets={"token": "nope"})
        refused = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=wrong))  # type: ignore[attr-defined]
        assert [(e.field, e.message) for e in refused.errors] == [("token", "Phonebook refused this token")]


async def test_a_query_is_parsed_once_and_what_the_connector_cannot_search_by_is_refused_by_name() -> None:
    described = Phonebook.description
    with pytest.raises(Exception) as order:
        sdk.parse_query(lookup_pb2.SearchRequest(order_number="1001"), described)
    assert getattr(order.value, "fields", {}) == {"order_number": "Phonebook searches by email or phone"}
    with pytest.raises(Exception) as nothing:
        sdk.parse_query(lookup_pb2.SearchRequest(), described)
    assert getattr(nothing.value, "fields", {}) == {"emails": "give an email or a phone"}
    query = sdk.parse_query(lookup_pb2.SearchRequest(emails=["A@x.com", "a@x.com"], auto_link=True), described)
    assert query.emails == ("a@x.com",) and query.first == 2, "deduplicated; two candidates show whether a match is unique"
    async with phonebook() as (app, stub):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="1001"))  # type: ignore[attr-defined]
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_search_each_answers_every_search_as_its_own_search_would() -> None:
    """Several apps' searches in one call: each answered, or failed as its own Search fails (code,
    message, fields, whether the vendor was reached), in the order asked; none fails another."""
    async with phonebook() as (app, stub):
        refused = lookup_pb2.AppContext(app_id="refused", settings=dict(app.settings), secrets={"token": "nope"})
        unusable = lookup_pb2.AppContext(app_id="unusable", settings={"api_base_url": "not a url"}, secrets={"token": TOKEN})
        searches = [
            lookup_pb2.SearchRequest(app=refused, emails=["ada@example.com"]),
            lookup_pb2.SearchRequest(app=app, emails=["ada@example.com"]),
            lookup_pb2.SearchRequest(app=unusable, emails=["ada@example.com"]),
            lookup_pb2.SearchRequest(app=app, order_number="1001"),
            lookup_pb2.SearchRequest(app=app, phones=["(415) 555-0107"]),
        ]
        each = stub.SearchEach(lookup_pb2.SearchEachRequest(searches=searches))  # type: ignore[attr-defined]
        streamed = [o async for together in each for o in together.outcomes]
        outcomes = sorted(streamed, key=lambda o: o.index)
        assert [o.index for o in outcomes] == [0, 1, 2, 3, 4], "one outcome per search, each with its place"
        assert [o.WhichOneof("outcome") for o in outcomes] == ["error", "answer", "error", "error", "answer"]
        for search, outcome in zip(searches, outcomes, strict=True):
            try:
                alone: lookup_pb2.SearchResponse | ServiceError = await stub.Search(search)  # type: ignore[attr-defined]
            except grpc.aio.AioRpcError as err:
                alone = ServiceError.from_rpc_error(err)
            if isinstance(alone, ServiceError):
                got = ServiceError.from_rpc_status(outcome.error)
                assert (got.code, got.message, got.fields, got.outcome, got.retry_after) == (
                    alone.code,
                    alone.message,
                    alone.fields,
                    alone.outcome,
                    alone.retry_after,
                ), search
            else:
                assert outcome.answer == alone
        assert ServiceError.from_rpc_status(outcomes[0].error).outcome == NOT_SENT, "it only read: the vendor did nothing"
        assert ServiceError.from_rpc_status(outcomes[2].error).fields == {"api_base_url": "must be an http(s) URL"}
        assert [o async for o in stub.SearchEach(lookup_pb2.SearchEachRequest())] == []  # type: ignore[attr-defined]
        with pytest.raises(grpc.aio.AioRpcError) as too_many:
            _ = [o async for o in stub.SearchEach(lookup_pb2.SearchEachRequest(searches=[searches[1]] * 101))]  # type: ignore[attr-defined]
        assert too_many.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert ServiceError.from_rpc_error(too_many.value).fields == {"searches": "101 given, at most 100"}


async def test_fetch_each_answers_every_fetch_as_its_own_fetch_would() -> None:
    async with phonebook() as (app, stub):
        unusable = lookup_pb2.AppContext(app_id="unusable", settings={"api_base_url": "not a url"}, secrets={"token": TOKEN})
        fetches = [
            lookup_pb2.FetchRequest(app=app, external_id="7"),
            lookup_pb2.FetchRequest(app=app, external_id="8"),
            lookup_pb2.FetchRequest(app=unusable, external_id="7"),
        ]
        each = stub.FetchEach(lookup_pb2.FetchEachRequest(fetches=fetches))  # type: ignore[attr-defined]
        streamed = [o async for together in each for o in together.outcomes]
        outcomes = sorted(streamed, key=lambda o: o.index)
        assert [o.WhichOneof("outcome") for o in outcomes] == ["answer", "error", "error"]
        assert outcomes[0].answer.customer.name == "Ada Lovelace"
        for fetch, outcome in zip(fetches[1:], outcomes[1:], strict=True):
            with pytest.raises(grpc.aio.AioRpcError) as alone:
                await stub.Fetch(fetch)  # type: ignore[attr-defined]
            own, got = ServiceError.from_rpc_error(alone.value), ServiceError.from_rpc_status(outcome.error)
            assert (got.code, got.message, got.fields, got.outcome) == (own.code, own.message, own.fields, own.outcome)
        assert ServiceError.from_rpc_status(outcomes[1].error).code == grpc.StatusCode.NOT_FOUND
