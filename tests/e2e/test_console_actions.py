"""What the console asks before an action is what the action does (issue 33, "nothing
dangerous"): Shopify's cancel showed "Refund the payment" unchecked while Shopify refunds unless
told not to, so the payment was refunded; every Shopify order read "##1002"; a return without
lines or a date ended in a dangling dot."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_console import choose, confirm, open_search, record_contact, signed_in

pytestmark = pytest.mark.e2e


def shopify_app(api: Api) -> dict[str, Any]:
    payload = next(p for p in api.stack.demo_apps() if p["type"] == "shopify")
    made = api.post(
        "/api/v1/apps",
        {**payload, "name": f"Shop {uuid.uuid4().hex[:6]}", "auto_link_fields": ["email"], "actions_enabled": True},
        role="admin",
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_cancel_shows_each_box_as_shopify_acts_and_sends_what_is_shown(api: Api, sandbox_reset: None) -> None:
    from playwright.async_api import async_playwright

    app = shopify_app(api)
    sent: list[dict[str, Any]] = []
    try:
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api)
            page.on(
                "request",
                lambda r: sent.append(json.loads(r.post_data or "{}")) if r.method == "POST" and r.url.endswith("/actions") else None,
            )
            await record_contact(page, "jane.smith@example.com")
            card = page.locator("#profile .app", has=page.locator(f"h3:has-text('{app['name']}')"))
            order = card.locator(".record.order", has_text="#1002")
            await choose(order, "Cancel order")
            cancel = card.locator("form[data-action=cancel]")
            await cancel.locator("input[name=refund]").wait_for()
            assert "#1002" in await cancel.inner_text(), "the form names the order it cancels"
            text = await card.inner_text()
            assert "#1001" in text and "##" not in text, "an order reads as Shopify names it, once"
            boxes = {n: await cancel.locator(f"input[name={n}]").is_checked() for n in ("refund", "restock", "notify_customer")}
            assert boxes == {"refund": True, "restock": True, "notify_customer": False}, "each box as Shopify acts when nothing is sent"
            beside = await cancel.locator("input[name=refund]").evaluate(
                "i => { const b = i.getBoundingClientRect(), l = i.closest('label').getBoundingClientRect(); return [b.top - l.top, b.left - l.left]; }"
            )
            assert beside[0] < 8 and beside[1] < 8, f"the box sits beside its label, first on its line: {beside}"
            await cancel.locator("select[name=reason]").select_option("CUSTOMER")
            await cancel.locator("input[name=refund]").uncheck()
            await cancel.locator("button[type=submit]").click()
            said = await confirm(page)
            assert "Does not refund the payment." in said and "Restocks" in said and "Does not email the customer." in said, said
            assert "Cancels the order in Shopify" in said, "the connector's own words for what a cancel does"
            await order.locator(".result:not(:empty)").wait_for()
            assert errors == []
            await browser.close()
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
    [run] = sent
    assert run["params"]["refund"] == "false" and run["params"]["restock"] == "true" and run["params"]["notify_customer"] == "false", run


async def test_each_system_answers_the_search_on_its_own_and_a_record_held_elsewhere_is_named(api: Api, sandbox_reset: None) -> None:
    """Search as it happens: a slow system holds up nobody (each says searching, then found N or
    no match); a record another customer holds is named, with no Link to try; and when every
    system is linked, searching them all is not offered."""
    from playwright.async_api import async_playwright

    from tests.e2e.test_console import store_app

    fast, slow = store_app(api, "Fast store", auto_link_fields=["email"]), shopify_app(api)
    api.sandbox("shopify", "POST", "/__sandbox/knobs", {"latency_ms": 1200})
    try:
        jane = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        assert fast["id"] in jane["linked"], jane
        holder_name = api.get(f"/api/v1/customers/{jane['customer_id']}").json()["name"]  # whoever holds Jane's email
        holder = holder_name or "another customer"
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api)
            await record_contact(page, f"someone-{uuid.uuid4().hex[:8]}@example.com", name="Someone Else")
            await page.wait_for_selector("#profile .customer h2:has-text('Someone Else')")
            search = await open_search(page)
            for app in (fast, slow):  # both are left to search for this customer
                await search.locator(f"#search-system option:has-text('{app['name']}')").wait_for(state="attached")
            await search.locator("input[name=email]").fill("jane.smith@example.com")
            await search.locator("button[type=submit]").click()
            systems = search.locator(".search-systems")
            await systems.locator(f"li:has-text('{fast['name']}'):has-text('found 1')").wait_for(timeout=2000)
            assert "Searching" in await systems.locator(f"li:has-text('{slow['name']}')").inner_text(), "the slow one is still at it"
            held = search.locator(".results-list li", has_text=fast["name"])
            assert f"Linked to {holder}" in await held.inner_text() and await held.locator("button:has-text('Link')").count() == 0
            assert "matched by email" in await held.inner_text()
            slow_line = systems.locator(f"li:has-text('{slow['name']}'):not(:has-text('searching'))")
            await slow_line.wait_for(timeout=15_000)
            assert "Found 1" in await slow_line.inner_text(), await slow_line.inner_text()
            # Jane: linked to both, nothing left to search.
            await held.locator(f"button:has-text('{holder}')").click()
            await page.wait_for_selector(f"#profile .customer h2:has-text('{holder_name or 'Unnamed customer'}')")
            await api_link_everything(api, jane["customer_id"])
            await choose(page.locator("#profile .customer"), "Refresh every system")
            await page.locator("#search-system option:has-text('Every system is linked already')").wait_for(state="attached")
            assert await page.locator("#search-system").is_disabled()
            assert errors == []
            await browser.close()
    finally:
        api.sandbox("shopify", "POST", "/__sandbox/knobs", {"latency_ms": 0})
        for app in (fast, slow):
            api.delete(f"/api/v1/apps/{app['id']}", role="admin")


async def api_link_everything(api: Api, customer_id: str) -> None:
    """Links the customer to each active system it is not linked to yet (the record its email finds)."""
    targets = api.get(f"/api/v1/customers/{customer_id}/search-targets").json()["targets"]
    for t in targets:
        found = api.post(f"/api/v1/customers/{customer_id}/external-search", {"app_id": t["app_id"], "email": "jane.smith@example.com"})
        results = found.json()["results"]
        if results:
            api.post(
                f"/api/v1/customers/{customer_id}/links",
                {"app_id": t["app_id"], "external_customer_id": results[0]["external_customer_id"]},
            )


async def test_a_stale_card_looks_stale_says_why_in_words_and_asks_once_more_before_an_action(api: Api, sandbox_reset: None) -> None:
    from playwright.async_api import async_playwright

    from tests.e2e.test_console import store_app

    app = store_app(api, "Stale store", auto_link_fields=["email"])
    try:
        async with async_playwright() as p:
            browser, page, errors = await signed_in(p, api)
            await record_contact(page, "jane.smith@example.com")
            card = page.locator("#profile .app", has=page.locator("h3:has-text('Stale store')"))
            await card.locator(".app-status:has-text('Updated')").wait_for()
            api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
            await page.wait_for_timeout(1100)  # past the test stack's freshness window
            await choose(page.locator("#profile .customer"), "Refresh every system")
            await page.locator("#profile .app.is-stale", has=page.locator("h3:has-text('Stale store')")).wait_for()
            status = await card.locator(".app-status").inner_text()
            assert "Stale store did not answer" in status and "Showing data from" in status, status
            assert "HTTP" not in status and "UNAVAILABLE" not in status, "in words, not nested codes"
            await choose(card.locator(".card-head"), "Create discount code")
            discount = card.locator("form[data-action=create_discount_code]")
            await discount.locator("select[name=type]").select_option("free_shipping")
            await discount.locator("button[type=submit]").click()
            dialog = page.locator("dialog#confirm[open]")
            await dialog.wait_for()
            first = await dialog.inner_text()
            assert "may be out of date" in first and "did not answer the last refresh" in first, first
            await dialog.locator("#confirm-yes").click()
            await page.locator("#confirm-title:has-text('Create discount code')").wait_for()  # then the preview, as for fresh data
            await dialog.locator("#confirm-no").click()
            assert errors == []
            await browser.close()
    finally:
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
