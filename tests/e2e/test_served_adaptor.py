"""Every linkmesh app served as a Gladly-compatible lookup adaptor, over the real processes:
the gateway endpoint verifies the signature over the raw body, refuses what the protocol
refuses, and a lookup_adaptor app pointed at linkmesh's own endpoint for a BigCommerce app
links the same customer with the same orders as the BigCommerce app itself (the round trip)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from linkmesh_core.gladly_signing import compact_json, gladly_time, sign, signed_headers
from linkmesh_sandboxes.lookup_adaptor.app import basic_header
from tests.conftest import Api
from tests.e2e.test_actions import vendor_calls
from tests.e2e.test_linking_rules import make_app

pytestmark = pytest.mark.e2e
KEY, USER, PASSWORD = "round-trip-signing-key-0001", "gladly", "round-trip-password"


@pytest.fixture()
def served(api: Api, sandbox_reset: None) -> Any:
    app = make_app(api, serving={"enabled": True, "signing_key": KEY, "username": USER, "password": PASSWORD})
    yield app
    api.delete(f"/api/v1/apps/{app['id']}", role="admin")


@pytest.fixture()
def served_with_actions(api: Api, sandbox_reset: None) -> Any:
    app = make_app(api, actions_enabled=True, serving={"enabled": True, "signing_key": KEY, "username": USER, "password": PASSWORD})
    yield app
    api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def post(
    api: Api,
    app: dict[str, Any],
    body: Any,
    *,
    key: str = KEY,
    at: datetime | None = None,
    auth: str | None = basic_header(USER, PASSWORD),
    raw: bytes | None = None,
) -> requests.Response:
    return send(api, "POST", f"/gladly/v1/apps/{app['id']}/lookup", body, key=key, at=at, auth=auth, raw=raw)


def send(
    api: Api,
    method: str,
    url: str,
    body: Any = None,
    *,
    key: str = KEY,
    at: datetime | None = None,
    auth: str | None = basic_header(USER, PASSWORD),
    raw: bytes | None = None,
    correlation: str | None = None,
) -> requests.Response:
    """A request signed as the protocol's callers sign it (``url`` is a path with its query), with a
    correlation id of its own unless given (an action's retry sends its first one again)."""
    correlation = uuid.uuid4().hex if correlation is None else correlation
    path, _, query = url.partition("?")
    data = raw if raw is not None else (compact_json(body) if body is not None else b"")
    headers = signed_headers(
        key,
        method,
        path,
        query,
        data,
        correlation_id=correlation,
        trace_id="746573742d636f7272656c6174696f6e",
        extra={"Authorization": auth} if auth else None,
        at=at,
    )
    return requests.request(method, f"{api.stack.gateway_url}{url}", data=data or None, headers=headers, timeout=20)


def test_the_app_shows_where_it_is_served_and_never_its_secrets(api: Api, served: dict[str, Any]) -> None:
    serving = served["serving"]
    assert serving["enabled"] and serving["username"] == USER and serving["secrets_set"] == ["password", "signing_key"]
    assert serving["url"] == f"{api.stack.gateway_url}/gladly/v1/apps/{served['id']}/lookup"
    assert KEY not in str(served) and PASSWORD not in str(served)
    short = api.patch(f"/api/v1/apps/{served['id']}", {"serving": {"enabled": True, "signing_key": "short"}}, role="admin")
    assert short.status_code in (400, 422) and "serving.signing_key" in short.json()["error"]["fields"]


def test_the_endpoint_answers_only_what_is_signed_with_the_apps_key(api: Api, served: dict[str, Any]) -> None:
    basic = {"lookupLevel": "BASIC", "uniqueMatchRequired": False, "query": {"emails": ["jane.smith@example.com"]}}
    ok = post(api, served, basic)
    assert ok.status_code == 200, ok.text
    assert [r["externalCustomerId"] for r in ok.json()["results"]] == ["101"]
    assert ok.json()["results"][0]["emails"] == [{"original": "jane.smith@example.com"}]
    as_string = post(api, served, {"lookupLevel": "BASIC", "query": {"email": "jane.smith@example.com"}})
    assert [r["externalCustomerId"] for r in as_string.json()["results"]] == ["101"], "a string value as well as an array"

    unsigned = requests.post(
        f"{api.stack.gateway_url}/gladly/v1/apps/{served['id']}/lookup",
        json=basic,  # type: ignore[arg-type]
        headers={"Authorization": basic_header(USER, PASSWORD)},
        timeout=10,
    )
    assert unsigned.status_code == 401 and unsigned.json() == {"errors": [{"message": "Gladly-Authorization is missing"}]}
    wrong = post(api, served, basic, key="another-signing-key-000")
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["message"] == "the request signature does not verify"
    stale = post(api, served, basic, at=datetime.now(UTC) - timedelta(minutes=6))
    assert stale.status_code == 401 and "5 minutes" in stale.json()["errors"][0]["message"], "a replay is refused"
    tampered = compact_json(basic).replace(b"jane.smith", b"john.doe00")
    path = f"/gladly/v1/apps/{served['id']}/lookup"
    headers = signed_headers(
        KEY, "POST", path, "", compact_json(basic), correlation_id="c", trace_id="00", extra={"Authorization": basic_header(USER, PASSWORD)}
    )
    swapped = requests.post(f"{api.stack.gateway_url}{path}", data=tampered, headers=headers, timeout=10)
    assert swapped.status_code == 401, "the signature covers the body's bytes"
    no_basic = post(api, served, basic, auth=None)
    assert no_basic.status_code == 401 and "Basic" in no_basic.json()["errors"][0]["message"]

    unknown = post(api, served, {"lookupLevel": "SOMETIMES", "query": {}})
    assert unknown.status_code == 400 and "lookupLevel" in unknown.json()["errors"][0]["message"]
    malformed = post(api, served, {"lookupLevel": "BASIC", "query": ["jane"]})
    assert malformed.status_code == 400
    nobody = post(api, served, {"lookupLevel": "DETAILED", "query": {"externalCustomerId": "999999"}})
    assert nobody.status_code == 200 and nobody.json() == {"results": []}

    api.patch(f"/api/v1/apps/{served['id']}", {"serving": {"enabled": False}}, role="admin")
    hidden = post(api, served, basic)
    assert hidden.status_code == 401 and hidden.json() == {"errors": [{"message": "the request signature does not verify"}]}, (
        "an app not served answers as a bad signature does: nothing tells which app ids exist"
    )
    kinds = {t["kind"] for t in api.get(f"/api/v1/apps/{served['id']}/lookups", role="developer").json()["lookups"]}
    assert {"adaptor_basic", "adaptor_detailed"} <= kinds, "every served lookup is a trace in the lookup debugger"


def test_a_lookup_adaptor_app_on_linkmeshs_own_endpoint_shows_what_the_app_itself_shows(api: Api, served: dict[str, Any]) -> None:
    response = api.post(
        "/api/v1/apps",
        {
            "type": "lookup_adaptor",
            "name": f"Round trip {uuid.uuid4().hex[:6]}",
            "settings": {"url": served["serving"]["url"], "username": USER},
            "secrets": {"signing_key": KEY, "password": PASSWORD},
            "search_query_attributes": [{"attribute": "email", "label": "Email"}],
            "auto_link_fields": ["email"],
        },
        role="admin",
    )
    assert response.status_code == 201, response.text
    mirror = response.json()
    try:
        contact = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        assert {served["id"], mirror["id"]} <= set(contact["linked"] + contact["refreshed"]), contact
        profile = api.get(f"/api/v1/customers/{contact['customer_id']}").json()
        direct = next(link for link in profile["links"] if link["app_id"] == served["id"])
        through = next(link for link in profile["links"] if link["app_id"] == mirror["id"])
        assert through["external_customer_id"] == direct["external_customer_id"] == "101", "the same customer"

        def orders(link: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [
                (
                    o["number"],
                    o["status"],
                    o["total"]["amount"],
                    o["total"]["currency"],
                    o["created_at"],
                    [(line["name"], line["quantity"]) for line in o["lines"]],
                    [s["tracking_number"] for s in o["shipments"]],
                )
                for o in link["data"]["orders"]
            ]

        assert orders(through) == orders(direct) and orders(direct), "the same orders, lines and shipments"
        assert through["data"]["emails"] == direct["data"]["emails"] and through["data"]["name"] == direct["data"]["name"]
    finally:
        api.delete(f"/api/v1/apps/{mirror['id']}", role="admin")


def test_served_results_offer_the_apps_actions_whose_forms_run_once_per_correlation_id(
    api: Api, served_with_actions: dict[str, Any]
) -> None:
    app = served_with_actions
    result = post(api, app, {"lookupLevel": "DETAILED", "query": {"externalCustomerId": "101"}}).json()["results"][0]
    base = f"/gladly/v1/apps/{app['id']}/actions"
    assert result["actions"] == [{"name": "Create discount code", "formUrl": f"{base}/create_discount_code?customer=101"}]
    order = next(t for t in result["transactions"] if t["orderNumber"] == "5001")
    refund_url = f"{base}/refund?customer=101&order=5001"
    assert {"name": "Refund order", "formUrl": refund_url} in order["actions"], order

    form = send(api, "GET", refund_url)
    assert form.status_code == 200, form.text
    assert form.json()["title"] == "Refund order" and form.json()["actionUrl"] == refund_url
    lines = form.json()["sections"][0]
    assert lines["attr"] == "lines" and lines["input"] == {"type": "text", "optional": True} and "line id" in lines["hint"]
    discount = send(api, "GET", f"{base}/create_discount_code?customer=101").json()
    kind = next(s for s in discount["sections"] if s["attr"] == "type")
    assert kind["input"]["type"] == "select" and {"text": "Free shipping", "value": "free_shipping"} in kind["input"]["options"]
    assert "optional" not in kind["input"], "a required field"

    refunds = "/payment_actions/refunds"
    bad = send(api, "POST", refund_url, {"lines": "all of them", "reason": "damaged"}, correlation="served-bad")
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "lines", bad.text
    assert vendor_calls(api, "bigcommerce", refunds) == 0, "a value to correct runs nothing"
    done = send(api, "POST", refund_url, {"lines": "500102:1", "reason": "damaged"}, correlation="served-1")
    assert done.status_code == 200, done.text
    assert "refund" in done.json()["message"].lower()
    later = datetime.now(UTC) + timedelta(seconds=2)  # a retry is signed anew: the same signature again is a replay
    again = send(api, "POST", refund_url, {"lines": "500102:1", "reason": "damaged"}, correlation="served-1", at=later)
    assert again.status_code == 200 and again.json() == done.json(), "the same correlation id answers the first outcome again"
    assert vendor_calls(api, "bigcommerce", refunds) == 1, "run once"
    other = send(api, "POST", refund_url, {"lines": "500101:1"}, correlation="served-1")
    assert other.status_code == 400 and "idempotency_key" in other.json()["errors"][0]["message"]
    no_id = send(api, "POST", refund_url, {"lines": "500101:1"}, correlation="")
    assert no_id.status_code == 400 and "Gladly-Correlation-Id" in no_id.text
    twice = send(api, "POST", refund_url, {"lines": "500102:3"}, correlation="served-2")
    assert twice.status_code == 406, twice.text  # more than is left of that line: refused (the form closes with the message)

    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": {"status": 502, "path": refunds, "method": "POST", "after": True}})
    lost = send(api, "POST", refund_url, {"lines": "500101:1"}, correlation="served-3")
    assert lost.status_code == 502 and "unknown" in lost.json()["errors"][0]["message"], lost.text
    retried = send(api, "POST", refund_url, {"lines": "500101:1"}, correlation="served-3", at=later + timedelta(seconds=1))
    assert retried.status_code == 502 and "unknown" in retried.json()["errors"][0]["message"], "never run twice, never a 4xx"
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": None})
    assert vendor_calls(api, "bigcommerce", refunds) == 2, "the refused one was checked against the order and never sent"

    kinds = [t for t in api.get(f"/api/v1/apps/{app['id']}/lookups", role="developer").json()["lookups"] if t["kind"] == "action"]
    assert kinds and all(t["customer_id"] == f"adaptor:{app['id']}:101" for t in kinds), "each run is traced"
    api.patch(f"/api/v1/apps/{app['id']}", {"actions_enabled": False}, role="admin")
    result = post(api, app, {"lookupLevel": "DETAILED", "query": {"externalCustomerId": "101"}}).json()["results"][0]
    assert "actions" not in result and all("actions" not in t for t in result["transactions"])
    assert send(api, "GET", refund_url).status_code == 406
    assert send(api, "GET", refund_url, key="another-signing-key-000").status_code == 401, "forms are signed too"


def test_an_action_through_the_round_trip_runs_once_on_the_system_behind(api: Api, served_with_actions: dict[str, Any]) -> None:
    """An agent runs a record action of the lookup_adaptor app that mirrors the served app:
    linkmesh's adaptor connector reads the served form, posts it, and the served side runs it
    through its own action runner on BigCommerce, once; both links show the refund."""
    served = served_with_actions
    mirror = api.post(
        "/api/v1/apps",
        {
            "type": "lookup_adaptor",
            "name": f"Round trip {uuid.uuid4().hex[:6]}",
            "actions_enabled": True,
            "settings": {"url": served["serving"]["url"], "username": USER},
            "secrets": {"signing_key": KEY, "password": PASSWORD},
            "search_query_attributes": [{"attribute": "email", "label": "Email"}],
            "auto_link_fields": ["email"],
        },
        role="admin",
    ).json()
    try:
        contact = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        profile = api.get(f"/api/v1/customers/{contact['customer_id']}").json()
        through = next(link for link in profile["links"] if link["app_id"] == mirror["id"])
        order = next(o for o in through["data"]["orders"] if o["number"] == "5001")
        refund = next(a for a in order["actions"] if a["name"] == "Refund order")
        form = api.get(
            f"/api/v1/customers/{contact['customer_id']}/action-form", params={"app_id": mirror["id"], "form_url": refund["form_url"]}
        ).json()
        assert [f["name"] for f in form["fields"]] == ["lines", "reason"], form
        run = api.post(
            f"/api/v1/customers/{contact['customer_id']}/actions",
            {"app_id": mirror["id"], "form_url": refund["form_url"], "params": {"lines": "500102:1"}},
            headers={"Idempotency-Key": f"round-trip-{uuid.uuid4().hex[:8]}"},
        )
        assert run.status_code == 200, run.text
        assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1
        after = {link["app_id"]: link for link in run.json()["customer"]["links"]}
        for app_id in (served["id"], mirror["id"]):
            refunded = next(o for o in after[app_id]["data"]["orders"] if o["number"] == "5001")
            assert "refund" in refunded["status"].lower(), (app_id, refunded["status"])
    finally:
        api.delete(f"/api/v1/apps/{mirror['id']}", role="admin")


def test_a_signed_request_sent_again_is_refused_as_a_replay(api: Api, served: dict[str, Any]) -> None:
    basic = {"lookupLevel": "BASIC", "query": {"emails": ["jane.smith@example.com"]}}
    data = compact_json(basic)
    path = f"/gladly/v1/apps/{served['id']}/lookup"
    headers = signed_headers(
        KEY, "POST", path, "", data, correlation_id="replay-1", trace_id="0" * 32, extra={"Authorization": basic_header(USER, PASSWORD)}
    )
    first = requests.post(f"{api.stack.gateway_url}{path}", data=data, headers=headers, timeout=20)
    assert first.status_code == 200, first.text
    replayed = requests.post(f"{api.stack.gateway_url}{path}", data=data, headers=headers, timeout=20)
    assert replayed.status_code == 401 and "replay" in replayed.json()["errors"][0]["message"], replayed.text


def test_an_unknown_app_and_a_bad_signature_answer_alike(api: Api, served: dict[str, Any]) -> None:
    basic = {"lookupLevel": "BASIC", "query": {"emails": ["jane.smith@example.com"]}}
    unknown = post(api, {"id": "6b0000000000000000000099"}, basic)
    forged = post(api, served, basic, key="another-signing-key-000")
    assert unknown.status_code == forged.status_code == 401
    assert unknown.json() == forged.json() == {"errors": [{"message": "the request signature does not verify"}]}


def test_an_action_post_needs_a_signed_correlation_id(api: Api, served_with_actions: dict[str, Any]) -> None:
    url = f"/gladly/v1/apps/{served_with_actions['id']}/actions/refund?customer=101&order=5001"
    data = compact_json({"lines": "500102:1"})
    path, _, query = url.partition("?")
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Gladly-Time": gladly_time(),
        "Authorization": basic_header(USER, PASSWORD),
    }
    headers["Gladly-Authorization"] = sign(KEY, "POST", path, query, headers, data)
    headers["Gladly-Correlation-Id"] = "added-after-signing"  # a replayer's fresh key: the signature does not cover it
    unsigned = requests.post(f"{api.stack.gateway_url}{url}", data=data, headers=headers, timeout=20)
    assert unsigned.status_code == 400 and "Gladly-Correlation-Id" in unsigned.text, unsigned.text
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 0


def test_errors_on_the_adaptor_paths_keep_the_protocols_shape(api: Api) -> None:
    for method, url in (("POST", "/gladly/v1/apps//actions/refund"), ("GET", "/gladly/v1/apps/x/nothing-here")):
        answer = requests.request(method, f"{api.stack.gateway_url}{url}", timeout=10)
        assert answer.status_code in (404, 405) and set(answer.json()) == {"errors"}, (url, answer.text)


def test_whose_fault_a_failure_is_decides_its_status(api: Api, served_with_actions: dict[str, Any]) -> None:
    """The caller's own signature is 401; the vendor refusing the app's credentials is
    linkmesh's problem (502), never the caller's; an inactive app is unavailable to a lookup
    (503) and refuses an action's form (406)."""
    app = served_with_actions
    detailed = {"lookupLevel": "DETAILED", "query": {"externalCustomerId": "101"}}
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": {"status": 401, "path": "/customers", "count": -1}})
    try:
        refused = post(api, app, detailed)
    finally:
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": None})
    assert refused.status_code == 502 and set(refused.json()) == {"errors"}, refused.text
    assert post(api, app, detailed, key="another-signing-key-000").status_code == 401

    form_url = f"/gladly/v1/apps/{app['id']}/actions/refund?customer=101&order=5001"
    assert send(api, "GET", f"/gladly/v1/apps/{app['id']}/actions/no_such_action?customer=101").status_code == 404
    assert send(api, "GET", form_url.replace("?customer=101&", "?")).status_code == 400, "an action URL names its customer"
    api.patch(f"/api/v1/apps/{app['id']}", {"active": False}, role="admin")
    inactive = post(api, app, detailed)
    assert inactive.status_code == 503 and "inactive" in inactive.json()["errors"][0]["message"], inactive.text
    assert send(api, "GET", form_url).status_code == 406
