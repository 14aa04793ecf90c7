"""The web console is served by the gateway and only calls endpoints the API documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser import launch
from tests.conftest import Api
from tests.e2e.test_lookup_adaptor_e2e import adaptor_app

pytestmark = pytest.mark.e2e
CONSOLE = Path(__file__).resolve().parents[2] / "gateway" / "src" / "linkmesh_gateway" / "static" / "console.js"


def test_the_console_is_served_without_a_token_and_with_a_strict_policy(api: Api) -> None:
    page = requests.get(f"{api.stack.gateway_url}/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = requests.get(f"{api.stack.gateway_url}/console/console.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert requests.get(f"{api.stack.gateway_url}/console/console.css", timeout=10).status_code == 200


def test_every_api_call_of_the_console_is_in_the_openapi_document(api: Api) -> None:
    doc = api.get("/api/v1/openapi.json", role=None).json()
    source = CONSOLE.read_text()
    calls = re.findall(r'api\("(GET|POST|PATCH|DELETE)", `?"?(/api/v1/[^`"?]*)', source)
    assert len(calls) >= 12, calls
    templates = {re.sub(r"\{[^}]+\}", "X", p): p for p in doc["paths"]}
    for method, path in calls:
        normalized = re.sub(r"\$\{[^}]+\}", "X", path).rstrip("/")
        template = templates.get(normalized)
        assert template is not None, f"the console calls {method} {path}, which the API does not document"
        assert method.lower() in doc["paths"][template], f"{method} {template} is not documented"
    assert "innerHTML" not in source, "the console sets text, never HTML"




async def signed_in(p: Any, api: Api, role: str = "agent") -> tuple[Any, Any, list[str]]:
    """A headless Chromium on the console, signed in with a role's token; the page's script errors."""
    browser = await launch(p)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{api.stack.gateway_url}/")
    await page.fill("#token", api.stack.token(role))
    await page.click("#key-sign-in")
    await page.wait_for_selector(f"#role:has-text('signed in as the {role} bootstrap token ({role})')")
    return browser, page, errors


async def test_an_agent_runs_a_custom_adaptors_record_action_through_its_form(api: Api, sandbox_reset: None) -> None:
    """The form is the adaptor's own (a default, a select with labels, a checkbox); a value the
    adaptor refuses is shown at its field and the form stays open; the corrected values run once."""
    from playwright.async_api import async_playwright

    app = adaptor_app(api, auto_link_fields=["email"])
    assert app.status_code == 201, app.text
    app = app.json()
    try:
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api)
            await page.fill("#find input[name=email]", "jane.smith@example.com")
            await page.click("#contact")
            await page.wait_for_selector(f"#profile h3:has-text('{app['name']}')")
            card = page.locator("#profile .card", has=page.locator(f"h3:has-text('{app['name']}')"))
            await card.locator("button:has-text('Add loyalty points')").click()
            form = card.locator("form.record-action")
            await form.wait_for()
            assert await form.locator("input[name=points]").input_value() == "100", "the adaptor's default"
            assert await form.locator("select[name=reason] option").all_inner_texts() == ["Goodwill", "Late delivery"]
            assert await form.locator("input[name=notify]").is_checked()
            await form.locator("input[name=points]").fill("5000")
            await form.locator("button[type=submit]").click()
            await form.locator(".error:has-text('1 to 1000')").wait_for()
            await form.locator("input[name=points]").fill("250")
            await form.locator("button[type=submit]").click()
            # The answer is shown where the agent ran it, and stays there on the redrawn profile.
            result = card.locator(".result.ok:has-text('Added 250 points')")
            await result.wait_for()
            assert "2700" in await result.inner_text() and await result.is_visible()
            await page.wait_for_selector(f"#profile .card:has-text('{app['name']}') :text('2700')")
            assert await page.inner_text("#notice") == "", "nothing at the top of the page, out of view"
            assert errors == []
            await browser.close()
            # An admin finds the run in the audit log, with its verified author.
            browser, page, errors = await signed_in(p, api, "admin")
            await page.click("nav button[data-view=debugger]")
            await page.fill("#audit input[name=app_id]", app["id"])
            await page.click("#audit button[type=submit]")
            row = page.locator("#audit-result tr", has_text="action.run")
            await row.first.wait_for()
            assert "the agent bootstrap token (agent)" in await row.first.inner_text()
            assert errors == []
            await browser.close()
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def store_app(api: Api, name: str, **over: Any) -> dict[str, Any]:
    """A BigCommerce app on the sandbox with actions on."""
    app = api.post("/api/v1/apps", {
        "type": "bigcommerce", "name": name, "actions_enabled": True,
        "settings": {"store_hash": "demo1", "api_base_url": api.stack.sandbox_url("bigcommerce")},
        "secrets": {"access_token": "demo-bigcommerce-token"},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}], **over,
    }, role="admin")
    assert app.status_code == 201, app.text
    return app.json()  # type: ignore[no-any-return]


async def test_an_agent_uses_the_console_in_a_real_browser(api: Api, sandbox_reset: None) -> None:
    from playwright.async_api import async_playwright

    app = store_app(api, "Console store", search_query_attributes=[{"attribute": "email", "label": "Email"},
                                                                   {"attribute": "phone", "label": "Phone"}])
    try:
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api)
            await page.fill("#find input[name=phone]", "(212) 555-0177")
            await page.click("#create")  # prompt() for the name is dismissed: an unnamed customer
            await page.wait_for_selector("#profile .card h3")
            search = page.locator("#profile .card").last
            await search.locator("input").first.fill("priya.patel@example.com")
            await search.locator("button[type=submit]").click()
            await page.wait_for_selector("#profile button:has-text('Link')")
            await page.click("#profile button:has-text('Link')")
            await page.wait_for_selector("#profile h3:has-text('Console store')")
            assert "5006" in await page.inner_text("#profile"), "the linked customer's orders are on the profile"
            refund = page.locator("#profile .action:has-text('Refund order')")
            # An impatient double click: the button is disabled while the request runs, and the
            # same values keep one idempotency key anyway.
            await refund.locator("button[type=submit]").dblclick()
            await page.wait_for_selector("#profile .action:has-text('Refund order') .result:not(:empty)")
            await page.wait_for_timeout(500)
            answer = await page.inner_text("#profile .action:has-text('Refund order') .result")
            assert "Refunded 159.00 USD on order 5006" in answer or "still running" in answer, answer
            assert errors == []
            await browser.close()
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
    refunds = [r for r in api.sandbox("bigcommerce", "GET", "/__sandbox/requests") if r["path"].endswith("/payment_actions/refunds")]
    assert len(refunds) == 1


async def test_the_console_shows_nothing_before_sign_in_and_then_only_what_the_role_may_use(api: Api) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch(p)
        try:
            page = await browser.new_page()
            await page.goto(f"{api.stack.gateway_url}/")
            await page.wait_for_selector("#welcome:visible")
            for hidden in ("nav", "#customers", "#apps", "#debugger", "#signout"):
                assert await page.is_hidden(hidden), f"{hidden} shows before sign-in"
            assert await page.is_hidden("#sso"), "no identity provider configured: API key sign-in only"
            assert await page.get_attribute("#token", "aria-label") == "API key"
            await browser.close()

            seen = {}
            for role in ("agent", "admin", "developer"):
                browser, page, errors = await signed_in(p, api, role)
                tabs = [await b.inner_text() for b in await page.query_selector_all("nav button:visible")]
                seen[role] = (tabs, await page.is_visible("#welcome"), await page.is_visible("#audit"))
                assert await page.is_visible("#signout") and errors == []
                await page.click("#signout")
                await page.wait_for_selector("#welcome:visible")
                assert await page.text_content("#role") == "" and await page.is_hidden("nav")
                await browser.close()
            assert seen["agent"] == (["Customers"], False, False)
            assert seen["admin"][0] == ["Apps", "Lookup debugger"] and seen["developer"][0] == ["Apps", "Lookup debugger"]
        finally:
            await browser.close()


async def test_a_refused_action_is_corrected_and_run_and_its_answer_stays_at_its_form(api: Api, sandbox_reset: None) -> None:
    """A refused refund keeps its form with the refusal at it; corrected values are a new
    request (a new Idempotency-Key) and run once; the answer is shown at the form."""
    from playwright.async_api import async_playwright

    app = store_app(api, "Correctable store", auto_link_fields=["email"])
    try:
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api)
            keys: list[str] = []
            page.on("request", lambda r: keys.append(r.headers.get("idempotency-key", "")) if r.method == "POST" and r.url.endswith("/actions") else None)
            await page.fill("#find input[name=email]", "jane.smith@example.com")
            await page.click("#contact")
            refund = page.locator("#profile .card:has(h3:has-text('Correctable store')) .action:has-text('Refund order')")
            await refund.wait_for()
            await refund.locator("select").select_option("5001")
            await refund.locator("input[name=lines]").fill("999999:1")
            await refund.locator("button[type=submit]").click()
            refused = refund.locator(".result.error")
            await refused.wait_for()
            assert "999999" in await refused.inner_text(), await refused.inner_text()
            await refund.locator("input[name=lines]").fill("")
            await refund.locator("button[type=submit]").click()
            done = page.locator("#profile .card:has(h3:has-text('Correctable store')) .action:has-text('Refund order') .result.ok")
            await done.wait_for()
            assert "5001" in await done.inner_text()
            assert len(keys) == 2 and keys[0] != keys[1], "corrected values: a new request"
            assert errors == []
            await browser.close()
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
    refunds = [r for r in api.sandbox("bigcommerce", "GET", "/__sandbox/requests") if r["path"].endswith("/payment_actions/refunds")]
    assert len(refunds) == 1, "the refused refund never reached BigCommerce; the corrected one once"
