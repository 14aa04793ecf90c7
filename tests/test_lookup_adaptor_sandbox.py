"""The demo custom lookup adaptor (sandboxes/.../lookup_adaptor) answers as the protocol says,
and only to requests signed with its key and sent with its Basic credentials."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from linkmesh_core.gladly_signing import compact_json, signed_headers
from linkmesh_sandboxes.lookup_adaptor.app import basic_header, create_app
from linkmesh_sandboxes.lookup_adaptor.data import PASSWORD, SIGNING_KEY, USERNAME


async def call(
    server: TestServer,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str = SIGNING_KEY,
    query: str = "",
    auth: str | None = basic_header(USERNAME, PASSWORD),
) -> tuple[int, Any]:
    raw = compact_json(body) if body is not None else b""
    headers = signed_headers(
        key, method, path, query, raw, correlation_id="corr-1", trace_id="abc123", extra={"Authorization": auth} if auth else None
    )
    async with aiohttp.ClientSession() as session:
        url = f"{server.make_url(path)}{'?' + query if query else ''}"
        async with session.request(method, url, data=raw or None, headers=headers) as resp:
            return resp.status, await resp.json()


@pytest.fixture()
async def adaptor() -> Any:
    server = TestServer(create_app())
    await server.start_server()
    yield server
    await server.close()


async def test_basic_matches_by_email_or_phone_in_any_spelling_and_detailed_answers_one(adaptor: TestServer) -> None:
    status, found = await call(
        adaptor,
        "POST",
        "/lookup",
        {"lookupLevel": "BASIC", "uniqueMatchRequired": False, "query": {"emails": ["Jane.Smith@example.com"], "name": "Jane"}},
    )
    assert status == 200 and [r["externalCustomerId"] for r in found["results"]] == ["club-1001"]
    assert "transactions" not in found["results"][0]
    status, found = await call(adaptor, "POST", "/lookup", {"lookupLevel": "BASIC", "query": {"phone": "(415) 555-0102"}})
    assert [r["name"] for r in found["results"]] == ["John Doe"]
    status, nobody = await call(adaptor, "POST", "/lookup", {"lookupLevel": "BASIC", "query": {"email": "nobody@example.com"}})
    assert nobody == {"results": []}
    status, detailed = await call(
        adaptor, "POST", "/lookup", {"lookupLevel": "DETAILED", "uniqueMatchRequired": True, "query": {"externalCustomerId": "club-1001"}}
    )
    [jane] = detailed["results"]
    assert [t["type"] for t in jane["transactions"]] == ["ORDER", "ORDER", "SUBSCRIPTION"]
    status, _ = await call(adaptor, "POST", "/lookup", {"lookupLevel": "SOMETIMES", "query": {}})
    assert status == 500


async def test_unsigned_wrongly_signed_or_unauthenticated_requests_are_refused(adaptor: TestServer) -> None:
    body = {"lookupLevel": "BASIC", "query": {"email": "jane.smith@example.com"}}
    assert (await call(adaptor, "POST", "/lookup", body, key="another-key"))[0] == 401
    assert (await call(adaptor, "POST", "/lookup", body, auth=None))[0] == 401
    assert (await call(adaptor, "POST", "/lookup", body, auth=basic_header(USERNAME, "wrong")))[0] == 401
    async with aiohttp.ClientSession() as session:
        async with session.post(
            adaptor.make_url("/lookup"), json=body, headers={"Authorization": basic_header(USERNAME, PASSWORD)}
        ) as resp:
            assert resp.status == 401 and "signature" in (await resp.json())["errors"][0]["message"]


async def test_an_action_form_runs_refuses_bad_values_field_by_field_and_closes_on_406(adaptor: TestServer) -> None:
    status, form = await call(adaptor, "GET", "/actions/add-points", query="customer=club-1001")
    assert status == 200 and [s["attr"] for s in form["sections"]] == ["points", "reason", "notify"]
    path, _, query = form["actionUrl"].partition("?")
    status, refused = await call(adaptor, "POST", path, {"points": "5000"}, query=query)
    assert status == 400 and refused["errors"][0]["attr"] == "points"
    status, done = await call(adaptor, "POST", path, {"points": "50", "reason": "goodwill"}, query=query)
    assert status == 200 and "2500" in done["detail"]
    status, closed = await call(adaptor, "POST", "/actions/cancel-box/run", {}, query="order=CB-5001")
    assert status == 406 and "shipped" in closed["errors"][0]["message"]
