"""DELETE /api/v1/customers/{id}/links keeps Gladly's rule (every system); .../links/{app_id}
unlinks one, which never auto-links that customer again; a query parameter a route does not
document is refused naming it (``?app_id=`` used to unlink everything)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_actions import apps, linked_customer  # noqa: F401 - the apps fixture

pytestmark = pytest.mark.e2e


def test_unlinking_one_system_keeps_the_others(api: Api, apps: dict[str, Any]) -> None:
    bc, rl = apps["bigcommerce"], apps["returnlogic"]
    customer = linked_customer(api, {"bc": (bc, "101"), "rl": (rl, "jane.smith@example.com")})
    refused = api.delete(f"/api/v1/customers/{customer['id']}/links", params={"app_id": bc["id"]})
    assert refused.status_code == 400 and "app_id" in refused.json()["error"]["fields"], refused.text
    assert {link["app_id"] for link in api.get(f"/api/v1/customers/{customer['id']}").json()["links"]} >= {bc["id"], rl["id"]}
    one = api.delete(f"/api/v1/customers/{customer['id']}/links/{bc['id']}")
    assert one.status_code == 200, one.text
    assert [link["app_id"] for link in one.json()["links"]] == [rl["id"]]
    again = api.delete(f"/api/v1/customers/{customer['id']}/links/{bc['id']}")
    assert again.status_code == 409, "not linked to it any more"
    contact = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"})
    assert contact.status_code == 200
    after = api.get(f"/api/v1/customers/{customer['id']}").json()
    assert bc["id"] not in {link["app_id"] for link in after["links"]}, "never auto-linked again"


def test_an_unknown_query_parameter_is_refused_on_every_route(api: Api) -> None:
    for path in ("/api/v1/me", "/api/v1/customer-directory", "/api/v1/connectors"):
        answer = api.get(path, params={"colour": "blue"})
        assert answer.status_code == 400 and answer.json()["error"]["fields"] == {"colour": "is not a parameter of this route"}, path
