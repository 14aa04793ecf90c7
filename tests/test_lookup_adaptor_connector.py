"""The custom lookup adaptor connector against the demo adaptor, both real servers: requests
signed as the protocol says (the adaptor verifies every one), queries shaped as Gladly sends
them, answers mapped as adaptors really write them, and record actions run through forms."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import grpc
import pytest
from aiohttp import web
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import NOT_SENT, OUTCOME_UNKNOWN, ServiceError
from linkmesh_core.gladly_signing import compact_json, verify
from linkmesh_lookup_adaptor import mapping
from linkmesh_sandboxes.knobs import Failure
from linkmesh_sandboxes.lookup_adaptor.app import CLUB, create_app
from linkmesh_sandboxes.lookup_adaptor.data import SIGNING_KEY
from tests.inprocess import lookup_adaptor_app, lookup_adaptor_connector, lookup_adaptor_sandbox, running


async def rpc_error(call: Any) -> ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return ServiceError.from_rpc_error(info.value)


async def test_validate_app_proves_url_key_and_credentials_and_names_the_field_at_fault() -> None:
    async with lookup_adaptor_sandbox() as sandbox, lookup_adaptor_connector() as stub:
        ok = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=lookup_adaptor_app(sandbox.url)))
        assert ok.ok and not ok.errors
        bad_key = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=lookup_adaptor_app(sandbox.url, key="wrong")))
        assert {e.field for e in bad_key.errors} == {"signing_key", "password"}, bad_key
        no_basic = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=lookup_adaptor_app(sandbox.url, username="", password="")))
        assert [e.field for e in no_basic.errors] == ["signing_key"], "without credentials only the key can be at fault"
        wrong_url = lookup_pb2.AppContext(
            settings={"url": f"{sandbox.url}/nowhere", "username": "linkmesh"},
            secrets={"signing_key": "demo-adaptor-signing-key", "password": "demo-adaptor-password"},
        )
        missing = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=wrong_url))
        assert [e.field for e in missing.errors] == ["url"], missing
        empty = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=lookup_pb2.AppContext(settings={"username": "x"})))
        assert {e.field for e in empty.errors} == {"url", "signing_key", "password"}
        probes = [b for b in sandbox.app[CLUB].lookups if b["lookupLevel"] == "BASIC"]
        assert probes and all(b["query"] == {"emails": ["linkmesh-validation@example.invalid"]} for b in probes), "a harmless lookup"


async def test_every_request_is_signed_over_the_exact_bytes_sent_with_time_correlation_and_trace() -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    @web.middleware
    async def capture(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append((dict(request.headers), await request.read()))
        return await handler(request)

    adaptor = create_app()
    adaptor.middlewares.insert(0, capture)
    async with running(adaptor) as sandbox, lookup_adaptor_connector() as stub:
        await stub.Search(lookup_pb2.SearchRequest(app=lookup_adaptor_app(sandbox.url), emails=["jane.smith@example.com"]))
        assert sandbox.requests[-1]["status"] == 200, "the adaptor verified the signature and the Basic credentials"
        headers, body = seen[-1]
        assert body == compact_json(json.loads(body)), "compact JSON, the bytes signed"
        assert headers["Gladly-Authorization"].startswith("SigningAlgorithm=hmac-sha256, SignedHeaders=")
        signed = headers["Gladly-Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        assert {"gladly-time", "gladly-correlation-id", "x-b3-traceid", "authorization", "content-type", "accept"} <= set(signed)
        assert re.fullmatch(r"\d{8}T\d{6}Z", headers["Gladly-Time"])
        raw = base64.urlsafe_b64decode(headers["Gladly-Correlation-Id"] + "==")
        assert headers["X-B3-TraceId"] == raw.hex(), "the trace id is the correlation id's bytes in hex"
        verify([SIGNING_KEY], "POST", "/lookup", "", headers, body)  # what the adaptor checked, checked again here


async def test_an_agents_search_sends_what_was_typed_and_an_auto_link_sends_the_profile() -> None:
    async with lookup_adaptor_sandbox() as sandbox, lookup_adaptor_connector() as stub:
        app = lookup_adaptor_app(sandbox.url)
        found = await stub.Search(lookup_pb2.SearchRequest(app=app, phones=["+14155550102"]))
        assert [(c.external_id, c.name) for c in found.candidates] == [("club-1002", "John Doe")]
        assert sandbox.app[CLUB].lookups[-1] == {"lookupLevel": "BASIC", "query": {"phone": "+14155550102"}, "uniqueMatchRequired": False}
        profile = lookup_pb2.ProfileHint(id="6b0000000000000000000001", name="Jane Smith", emails=["jane.smith@example.com"])
        found = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["jane.smith@example.com"], auto_link=True, profile=profile))
        [jane] = found.candidates
        assert jane.external_id == "club-1001" and list(jane.emails) == ["jane.smith@example.com"]
        assert sandbox.app[CLUB].lookups[-1]["query"] == {
            "emails": ["jane.smith@example.com"],
            "name": "Jane Smith",
            "id": "6b0000000000000000000001",
        }
        nobody = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["nobody@example.com"]))
        assert list(nobody.candidates) == []
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app, order_number="CB-5001")))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "order_number" in err.fields


async def test_detailed_answers_map_orders_transactions_and_actions_and_unparseable_fields_never_fail() -> None:
    async with lookup_adaptor_sandbox() as sandbox, lookup_adaptor_connector() as stub:
        app = lookup_adaptor_app(sandbox.url)
        jane = (
            await stub.Fetch(
                lookup_pb2.FetchRequest(
                    app=app,
                    external_id="club-1001",
                    profile=lookup_pb2.ProfileHint(emails=["jane.smith@example.com"], phones=["+14155550101"]),
                )
            )
        ).customer
        sent = sandbox.app[CLUB].lookups[-1]
        assert sent["lookupLevel"] == "DETAILED" and sent["uniqueMatchRequired"] is True
        assert sent["query"] == {"externalCustomerId": "club-1001", "emails": ["jane.smith@example.com"], "phones": ["+14155550101"]}
        assert jane.name == "Jane Smith" and jane.address.line1.startswith("12 Market St")
        assert {a.key: a.value for a in jane.custom_attributes} == {"tier": "Summit", "points": "2450", "memberSince": "2021-04-12"}
        assert [(a.name, a.form_url) for a in jane.actions] == [("Add loyalty points", "/actions/add-points?customer=club-1001")]
        newest, oldest = jane.orders
        assert (newest.number, newest.total.amount, newest.total.currency, newest.status) == ("CB-5002", "49.00", "USD", "Processing")
        assert newest.created_at.ToJsonString().startswith("2026-11-01"), "a US date"
        assert [a.form_url for a in newest.actions] == ["/actions/cancel-box?order=CB-5002"]
        assert (oldest.total.amount, oldest.total.currency, oldest.fulfilled) == ("64.00", "USD", True)
        assert [(line.name, line.unit_price.amount, line.quantity) for line in oldest.lines] == [
            ("Trail Snack Box (October)", "49.00", 1),
            ("Merino Socks", "15.00", 1),
        ]
        [shipment] = oldest.shipments
        assert (shipment.carrier, shipment.tracking_number) == ("UPS", "1Z999AA10123456784") and "ups.com" in shipment.tracking_url
        assert (shipment.delivery, shipment.method) == ("delivered", ""), "the adaptor's fulfillment status says where the parcel is"
        assert oldest.admin_url.endswith("/orders/CB-5001")
        [subscription] = jane.transactions
        assert subscription.type == "SUBSCRIPTION" and subscription.title == "Trail Snack Box"
        assert {f.key: f.value for f in subscription.fields} == {"status": "active", "renewsAt": "2026-12-01", "price": "$49.00 / month"}
        john = (await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="club-1002"))).customer
        [order] = john.orders
        assert not order.HasField("total") and order.status == "Cancelled", "an orderTotal of 'n/a' is left out, never a failure"
        err = await rpc_error(stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="club-9999")))
        assert err.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "raw,code,amount,currency",
    [
        ("$100.00", "", "100.00", "USD"),
        ("100", "EUR", "100.00", "EUR"),
        ("1,234.50", "USD", "1234.50", "USD"),
        ("1.234,50 €", "", "1234.50", "EUR"),
        ("£7.5", "", "7.50", "GBP"),
        ("49.00 CAD", "", "49.00", "CAD"),
        (42, "usd", "42.00", "USD"),
    ],
)
def test_amounts_as_adaptors_write_them(raw: Any, code: str, amount: str, currency: str) -> None:
    money = mapping.amount(raw, code)
    assert money is not None and (money.amount, money.currency) == (amount, currency)


@pytest.mark.parametrize("raw", ["n/a", "", None, "free", {"amount": 1}])
def test_amounts_that_do_not_parse_are_left_out(raw: Any) -> None:
    assert mapping.amount(raw) is None


@pytest.mark.parametrize(
    "raw,day",
    [
        ("2026-10-01T12:00:00.000Z", "2026-10-01"),
        ("11/01/2026", "2026-11-01"),
        ("2026-09-15", "2026-09-15"),
        ("Wed, 10 Jan 2018 21:05:30 +0000", "2018-01-10"),
        (1767225600000, "2026-01-01"),
        ("Oct 5, 2026", "2026-10-05"),
    ],
)
def test_dates_in_the_formats_adaptors_send(raw: Any, day: str) -> None:
    ts = mapping.timestamp(raw)
    assert ts is not None and ts.ToJsonString().startswith(day)


def test_a_date_that_does_not_parse_is_none() -> None:
    assert mapping.timestamp("next Tuesday") is None and mapping.timestamp(True) is None


async def test_record_actions_read_their_form_check_values_and_post_once() -> None:
    async with lookup_adaptor_sandbox() as sandbox, lookup_adaptor_connector() as stub:
        app = lookup_adaptor_app(sandbox.url)
        form = await stub.GetActionForm(lookup_pb2.GetActionFormRequest(app=app, form_url="/actions/add-points?customer=club-1001"))
        assert (form.title, form.submit_label, form.close_label) == ("Add loyalty points", "Add points", "Cancel")
        points, reason, notify = form.fields
        assert (points.name, points.type, points.required, points.default_value, points.hint) == (
            "points",
            "string",
            True,
            "100",
            "1 to 1000",
        )
        assert (reason.type, list(reason.options), [c.label for c in reason.choices]) == (
            "select",
            ["goodwill", "late"],
            ["Goodwill", "Late delivery"],
        )
        assert (notify.type, notify.required, notify.default_value) == ("boolean", False, "true")

        def run(**params: str) -> Any:
            return stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app,
                    action="Add loyalty points",
                    external_customer_id="club-1001",
                    form_url="/actions/add-points?customer=club-1001",
                    params=params,
                    idempotency_key="k",
                )
            )

        err = await rpc_error(run(points="5", reason="bribe"))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "params.reason" in err.fields and err.outcome == NOT_SENT
        err = await rpc_error(run(points="5000", reason="goodwill"))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and err.fields == {"params.points": "Give a whole number from 1 to 1000"}, (
            "the adaptor's 400 names the field"
        )
        done = await run(points="150", reason="late", notify="false")
        assert done.message == "Added 150 points" and "2600 points" in done.result["detail"]
        assert sandbox.app[CLUB].runs[-1] == ("add-points", {"points": "150", "reason": "late", "notify": False}), "a checkbox is a boolean"

        err = await rpc_error(
            stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app, action="Cancel this box", external_customer_id="club-1001", form_url="/actions/cancel-box?order=CB-5001"
                )
            )
        )
        assert err.code == grpc.StatusCode.FAILED_PRECONDITION and "can no longer be cancelled" in err.message, "a 406 closes the form"

        err = await rpc_error(stub.GetActionForm(lookup_pb2.GetActionFormRequest(app=app, form_url="https://elsewhere.example/form")))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "form_url" in err.fields, "the key is never sent to another host"

        sandbox.knobs.fail = Failure(status=0, count=1, path="/run", method="POST", after=True, hang_s=4)
        posts = len([r for r in sandbox.requests if r["method"] == "POST" and r["path"].endswith("/run")])
        err = await rpc_error(
            stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app,
                    action="Add loyalty points",
                    external_customer_id="club-1001",
                    form_url="/actions/add-points?customer=club-1001",
                    params={"points": "10", "reason": "goodwill"},
                ),
                timeout=3,
            )
        )
        assert err.outcome == OUTCOME_UNKNOWN or err.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert len([r for r in sandbox.requests if r["method"] == "POST" and r["path"].endswith("/run")]) == posts + 1, "sent once"
