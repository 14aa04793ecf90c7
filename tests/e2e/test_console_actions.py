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
from tests.e2e.test_console import confirm, record_contact, signed_in

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
            cancel = card.locator("[data-action=cancel]")
            await cancel.locator("select[name=order_id]").wait_for()
            text = await card.inner_text()
            assert "#1001" in text and "##" not in text, "an order reads as Shopify names it, once"
            boxes = {n: await cancel.locator(f"input[name={n}]").is_checked() for n in ("refund", "restock", "notify_customer")}
            assert boxes == {"refund": True, "restock": True, "notify_customer": False}, "each box as Shopify acts when nothing is sent"
            await cancel.locator("select[name=reason]").select_option("CUSTOMER")
            await cancel.locator("input[name=refund]").uncheck()
            await cancel.locator("button[type=submit]").click()
            said = await confirm(page)
            assert "Does not refund the payment." in said and "Restocks" in said and "Does not email the customer." in said, said
            assert "Cancels the order in Shopify" in said, "the connector's own words for what a cancel does"
            await cancel.locator(".result:not(:empty)").wait_for()
            assert errors == []
            await browser.close()
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
    [run] = sent
    assert run["params"]["refund"] == "false" and run["params"]["restock"] == "true" and run["params"]["notify_customer"] == "false", run
