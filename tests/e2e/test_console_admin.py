"""The admin screens (issue 33): API keys made, listed and revoked from the console (the secret
shown once); each app's health in the apps list (answering, failing, when it last answered and
failed, in words); the audit log's action choices are every action the log records."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser import check_accessibility, screenshot
from tests.conftest import Api
from tests.e2e.test_console import confirm, signed_in, store_app

pytestmark = pytest.mark.e2e

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "src" / "linkmesh_gateway" / "static"


def test_the_audit_logs_choices_are_every_action_it_records() -> None:
    from linkmesh_profile.admin.audit import ACTIONS

    source = (STATIC / "audit.js").read_text()
    block = source[source.index("AUDIT_ACTIONS = {") : source.index("};", source.index("AUDIT_ACTIONS = {"))]
    assert set(re.findall(r'"([a-z_]+\.[a-z_]+)":', block)) == set(ACTIONS)


async def test_an_admin_makes_a_key_sees_its_secret_once_and_revokes_it(api: Api) -> None:
    from playwright.async_api import async_playwright

    name = f"Helpdesk {uuid.uuid4().hex[:6]}"
    async with async_playwright() as p:
        browser, page, errors = await signed_in(p, api, "admin")
        keys = page.locator("#api-keys")
        await keys.locator("form").wait_for()
        await keys.locator("input[name=name]").fill(name)
        await keys.locator("select[name=role]").select_option("agent")
        await keys.locator("button[type=submit]").click()
        shown = keys.locator(".secret-value")
        await shown.wait_for()
        secret = await shown.inner_text()
        assert secret.startswith("lmk_"), secret
        me = api.call("GET", "/api/v1/me", token=secret)
        assert me.status_code == 200 and me.json()["role"] == "agent", me.text
        row = keys.locator("tbody tr", has_text=name)
        await row.wait_for()
        assert secret not in await row.inner_text(), "the list shows the key's start, never its secret"
        await check_accessibility(page, "the API keys")
        await screenshot(page, "api-keys-1440")
        await page.reload()  # still signed in (this tab's storage); the secret is not shown again
        await keys.locator("tbody tr", has_text=name).wait_for()
        assert secret not in await page.content()
        await keys.locator("tbody tr", has_text=name).locator("button:has-text('Revoke')").click()
        said = await confirm(page)
        assert f"Revoke {name}?" in said and "refused from now on" in said, said
        await keys.locator(".ok", has_text=f"{name} is revoked").wait_for()
        assert await keys.locator("tbody tr", has_text=name).count() == 0
        refused = api.call("GET", "/api/v1/me", token=secret)
        assert refused.status_code == 401
        assert errors == []
        await browser.close()


async def test_the_apps_list_shows_each_apps_health_in_words(api: Api, sandbox_reset: None) -> None:
    from playwright.async_api import async_playwright

    app = store_app(api, f"Health store {uuid.uuid4().hex[:4]}")
    customer = api.post("/api/v1/customers", {"name": f"Health {uuid.uuid4().hex[:6]}"}).json()
    search: dict[str, Any] = {"app_id": app["id"], "email": "nobody@example.com"}
    try:
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api, "admin")
            row = page.locator("#app-list tr", has_text=app["name"])
            await row.locator(".badge:has-text('Not called yet')").wait_for()
            api.post(f"/api/v1/customers/{customer['id']}/external-search", search)
            api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
            api.post(f"/api/v1/customers/{customer['id']}/external-search", search)
            await page.click("nav button[data-view=debugger]")
            await page.click("nav button[data-view=apps]")
            await row.locator(".badge:has-text('Failing')").wait_for()
            text = await row.inner_text()
            assert "Last failure just now: The service is down for maintenance" in text and "UNAVAILABLE" not in text, text
            api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
            api.post(f"/api/v1/customers/{customer['id']}/external-search", search)
            await page.click("nav button[data-view=debugger]")
            await page.click("nav button[data-view=apps]")
            await row.locator(".badge:has-text('Answering')").wait_for()
            assert "Last answer just now" in await row.inner_text()
            assert "Subscribed" in await row.inner_text(), "BigCommerce's hooks: the store tells linkmesh of its changes"
            listed = next(a for a in api.get("/api/v1/apps", role="admin").json()["apps"] if a["id"] == app["id"])
            assert listed["health"]["state"] == "closed" and listed["health"]["last_success_at"] and listed["health"]["last_failure_at"]
            assert errors == []
            await browser.close()
    finally:
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


async def test_every_message_the_console_shows_starts_with_a_capital(api: Api) -> None:
    """The API's words are often lower case ("email: is not an email address"); the console says
    each as a sentence: a refusal in the notice, a failure in words, a search's state."""
    from playwright.async_api import async_playwright

    from tests.e2e.test_console import record_contact

    async with async_playwright() as p:
        browser, page, errors = await signed_in(p, api)
        await page.wait_for_selector("#directory h2")
        await page.fill("#lookup-query", "x" * 250)  # past the directory's 200 characters: refused
        await page.click("#lookup button[type=submit]")
        notice = page.locator("#notice.error")
        await notice.wait_for()
        said = await notice.inner_text()
        assert said[:1].isupper(), said
        await record_contact(page, f"capital-{uuid.uuid4().hex[:6]}@example.com", name="Capital Letters")
        await page.locator("#profile .customer h2:has-text('Capital Letters')").wait_for()
        texts = await page.locator("#contact-result p, #profile .muted, #profile .search-systems li > span").all_inner_texts()
        lower = [t for t in texts if t.strip() and t.strip()[0].islower()]
        assert lower == [], f"messages that start in lower case: {lower}"
        assert errors == []
        await browser.close()
