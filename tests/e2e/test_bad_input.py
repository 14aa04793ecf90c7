"""Bad input is a 4xx that names the field: each reproduction that answered 500 (or a
false 429) before, now one by one."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.conftest import Api
from tests.logcheck import tracebacks

pytestmark = pytest.mark.e2e


def raw(
    api: Api, method: str, path: str, data: bytes | None, role: str = "agent", headers: dict[str, str] | None = None
) -> requests.Response:
    h = {"Authorization": f"Bearer {api.stack.token(role)}", "Content-Type": "application/json", **(headers or {})}
    return requests.request(method, f"{api.stack.gateway_url}{path}", data=data, headers=h, timeout=30)


def fields(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 422, (response.status_code, response.text)
    return response.json()["error"]["fields"]


def test_a_nul_in_an_attribute_key_names_the_field(api: Api) -> None:
    response = api.post("/api/v1/customers", {"custom_attributes": {"a\u0000b": "v"}})
    assert "custom_attributes" in fields(response)


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"name": "\\ud800"}', "name"),
        ('{"emails": ["x\\ud800@example.com"]}', "emails[0]"),
    ],
)
def test_lone_surrogates_name_the_field(api: Api, body: str, field: str) -> None:
    assert field in fields(raw(api, "POST", "/api/v1/customers", body.encode()))


def test_a_lone_surrogate_in_an_app_name_names_the_field(api: Api) -> None:
    response = raw(api, "POST", "/api/v1/apps", b'{"type": "bigcommerce", "name": "\\udfff"}', role="admin")
    assert "name" in fields(response)


def test_an_idempotency_key_that_is_not_text_is_refused(api: Api) -> None:
    response = raw(
        api,
        "POST",
        "/api/v1/customers/000000000000000000000000/actions",
        b'{"app_id": "x", "action": "refund"}',
        headers={"Idempotency-Key": "k\xff\xfe".encode("latin-1").decode("latin-1")},
    )
    assert "Idempotency-Key" in fields(response)


def test_a_limit_that_is_not_ascii_digits_is_refused(api: Api) -> None:
    response = raw(api, "GET", "/api/v1/apps/000000000000000000000000/lookups?limit=%C2%B2", None, role="admin")
    assert "limit" in fields(response)


def test_a_body_nested_50000_deep_is_refused(api: Api) -> None:
    response = raw(api, "POST", "/api/v1/customers", b'{"name": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    assert response.status_code in (400, 422) and response.status_code < 500, response.text


def test_a_100000_character_email_is_422_not_429(api: Api) -> None:
    response = api.post("/api/v1/customers", {"emails": ["a" * 100_000 + "@example.com"]})
    assert "emails[0]" in fields(response)
    contact = api.post("/api/v1/contacts", {"channel": "email", "email": "b" * 100_000 + "@example.com"})
    assert contact.status_code == 422, contact.text


def test_a_contact_name_keeps_the_200_character_limit(api: Api) -> None:
    response = api.post("/api/v1/contacts", {"channel": "chat", "email": "long-name@example.com", "name": "n" * 300})
    assert "name" in fields(response)


def test_a_customer_needs_a_body_with_a_field(api: Api) -> None:
    assert "body" in fields(raw(api, "POST", "/api/v1/customers", None))
    assert "body" in fields(raw(api, "POST", "/api/v1/customers", b"{}"))


def test_405_keeps_its_allow_header(api: Api) -> None:
    response = raw(api, "PUT", "/api/v1/customers", b"{}")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_the_openapi_document_marks_required_fields(api: Api) -> None:
    schemas = api.doc["components"]["schemas"]
    assert set(schemas["AppCreate"]["required"]) >= {"type", "name", "search_query_attributes"}
    assert schemas["CustomerInput"]["minProperties"] == 1
    assert schemas["LinkRequest"]["required"] == ["app_id", "external_customer_id"]
    assert json.dumps(api.doc)  # the document stays plain JSON


PROBLEM = {"Accept": "application/problem+json"}


def test_rfc_9457_problem_details_to_a_caller_who_asks_for_them(api: Api) -> None:
    invalid = raw(api, "POST", "/api/v1/customers", b'{"emails": ["not an email"]}', headers=PROBLEM)
    assert invalid.status_code == 422 and invalid.headers["Content-Type"].startswith("application/problem+json")
    problem = invalid.json()
    assert problem["type"] == "urn:linkmesh:problem:invalid_argument" and problem["status"] == 422
    assert problem["instance"] == "/api/v1/customers" and problem["detail"] and "emails[0]" in problem["fields"]
    missing = raw(api, "GET", "/api/v1/customers/000000000000000000000000", None, headers=PROBLEM)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found" and missing.json()["title"] == "Not found"
    unauthenticated = requests.get(f"{api.stack.gateway_url}/api/v1/me", headers={**PROBLEM, "Authorization": "Bearer nope"}, timeout=10)
    assert unauthenticated.status_code == 401 and unauthenticated.json()["status"] == 401
    no_route = raw(api, "GET", "/api/v1/nowhere", None, headers=PROBLEM)
    assert no_route.status_code == 404 and no_route.headers["Content-Type"].startswith("application/problem+json")
    # Without the Accept header, the API's envelope, as before.
    plain = raw(api, "GET", "/api/v1/customers/000000000000000000000000", None)
    assert plain.headers["Content-Type"].startswith("application/json") and plain.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", ["Content-Length: {", "Content-Length: 5, 7", "Transfer-Encoding: chunked\r\nContent-Length: 3"])
def test_a_malformed_http_request_is_refused_and_logged_without_a_traceback(api: Api, header: str) -> None:
    """A client's malformed HTTP (a fuzzer sent ``Content-Length: {``) is the client's error: a
    400, and a log line that says so, never a server traceback that pages someone."""
    gateway = api.stack.services["gateway"]
    before = len(gateway.log_tail(50_000_000))
    host, port = api.stack.gateway_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /api/v1/customers HTTP/1.1\r\nHost: {host}\r\n{header}\r\n\r\n".encode())
        answer = conn.recv(4096).decode("latin-1")
    assert answer.split(" ", 2)[1] == "400", answer[:200]
    written, until = "", time.monotonic() + 10
    while "malformed_http_request" not in written and time.monotonic() < until:  # the log line is written after the answer
        time.sleep(0.05)
        written = gateway.log_tail(50_000_000)[before:]
    assert not tracebacks(written), tracebacks(written)[0][:2000]
    assert "malformed_http_request" in written
