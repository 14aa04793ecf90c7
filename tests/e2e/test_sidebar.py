"""The console in a helpdesk's sidebar (/sidebar): the customer of the open conversation from the
page's query, or from Chatwoot's Dashboard App messages when a helpdesk page frames it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.browser import check_accessibility, launch, screenshot
from tests.conftest import HELPDESK_PORT, Api
from tests.e2e.test_console import WIDEST, store_app

pytestmark = pytest.mark.e2e

# Chatwoot's Dashboard App contract (app/javascript/dashboard/components/widgets/DashboardApp/Frame.vue):
# on the frame's load, and whenever the frame posts "chatwoot-dashboard-app:fetch-info", the
# dashboard posts JSON.stringify({event: "appContext", data: {conversation, contact, currentAgent}}).
HELPDESK = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>helpdesk</title></head><body>
<main><h1>Conversation</h1><iframe id="app" title="linkmesh" src="%(src)s" style="width:400px;height:900px;border:0"></iframe></main>
<script>
window.asked = 0;
window.context = %(context)s;
const frame = document.getElementById("app");
window.send = () => frame.contentWindow.postMessage(JSON.stringify({ event: "appContext", data: window.context }), "*");
frame.addEventListener("load", window.send);
window.addEventListener("message", (e) => {
  if (e.source === frame.contentWindow && e.data === "chatwoot-dashboard-app:fetch-info") { window.asked += 1; window.send(); }
});
</script></body></html>"""


def chatwoot_context(conversation: int, name: str, email: str, phone: str = "", channel: str = "Channel::Email") -> dict[str, Any]:
    contact = {"id": conversation * 10, "name": name, "email": email, "phone_number": phone, "custom_attributes": {}}
    return {
        "conversation": {
            "id": conversation,
            "inbox_id": 1,
            "status": "open",
            "meta": {"sender": contact, "channel": channel, "assignee": {"id": 1, "name": "Sam"}},
            "messages": [],
        },
        "contact": contact,
        "currentAgent": {"id": 1, "name": "Sam", "email": "sam@example.com"},
    }


async def serve_helpdesk(api: Api, port: int, context: dict[str, Any]) -> web.AppRunner:
    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=HELPDESK % {"src": f"{api.stack.gateway_url}/sidebar", "context": json.dumps(context)}, content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "localhost", port).start()
    return runner


@pytest.fixture()
async def sidebar_app(api: Api, sandbox_reset: None) -> AsyncIterator[dict[str, Any]]:
    app = store_app(api, "Sidebar store", auto_link_fields=["email"])
    yield app
    api.delete(f"/api/v1/apps/{app['id']}", role="admin")


async def test_chatwoot_frames_the_sidebar_and_it_follows_the_open_conversation(api: Api, sidebar_app: dict[str, Any]) -> None:
    from playwright.async_api import async_playwright

    port = HELPDESK_PORT
    runner = await serve_helpdesk(api, port, chatwoot_context(7, "Jane Smith", "jane.smith@example.com"))
    try:
        async with async_playwright() as p:
            browser = await launch(p)
            page = await browser.new_page(viewport={"width": 1200, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"http://localhost:{port}/")
            frame = page.frame_locator("#app")
            await frame.locator("#token").fill(api.stack.token("agent"))
            await frame.locator("#key-sign-in").click()
            # Signed in, the sidebar asks Chatwoot for the conversation, records the contact
            # (auto-link) and opens the profile.
            await frame.locator("#profile h3:has-text('Sidebar store')").wait_for()
            assert await page.evaluate("window.asked") >= 1, "the sidebar asked for the context"
            assert "jane.smith@example.com" in await frame.locator("#profile .customer").inner_text()
            assert "#5001" in await frame.locator("#profile .app").inner_text()
            assert await frame.locator("#contact-result").inner_text() != ""
            inner = page.frame(url=f"{api.stack.gateway_url}/sidebar")
            assert inner is not None
            assert await inner.evaluate("document.documentElement.scrollWidth") <= 400, await inner.evaluate(WIDEST)
            await check_accessibility(inner, "the sidebar in a helpdesk")
            await screenshot(page, "sidebar-in-helpdesk")
            # The agent opens another conversation: the sidebar follows it.
            await page.evaluate(
                f"window.context = {json.dumps(chatwoot_context(8, 'Priya Patel', 'priya.patel@example.com'))}; window.send()"
            )
            await frame.locator("#profile .customer:has-text('priya.patel@example.com')").wait_for()
            # The same conversation again changes nothing (no second contact).
            contacts = []
            page.on("request", lambda r: contacts.append(r.url) if r.url.endswith("/api/v1/contacts") else None)
            await page.evaluate("window.send()")
            await page.wait_for_timeout(500)
            assert contacts == []
            assert errors == []
            await browser.close()
    finally:
        await runner.cleanup()


async def test_a_page_on_an_origin_not_listed_cannot_frame_the_console(api: Api) -> None:
    from playwright.async_api import async_playwright

    from linkmesh_devstack.ports import free_port

    port = free_port()
    runner = await serve_helpdesk(api, port, chatwoot_context(7, "Jane Smith", "jane.smith@example.com"))
    try:
        async with async_playwright() as p:
            browser = await launch(p)
            page = await browser.new_page()
            await page.goto(f"http://localhost:{port}/")
            await page.wait_for_timeout(1000)
            inner = page.frame(url=f"{api.stack.gateway_url}/sidebar")
            framed = inner is not None and await inner.locator("#login").count() > 0
            assert not framed, "frame-ancestors lets only the listed helpdesk show the console"
            await browser.close()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("width", [320, 420])
async def test_the_sidebar_opens_the_customer_named_in_its_query_and_fits(api: Api, sidebar_app: dict[str, Any], width: int) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch(p)
        page = await browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{api.stack.gateway_url}/sidebar?email=jane.smith%40example.com&name=Jane%20Smith&channel=chat")
        await page.fill("#token", api.stack.token("agent"))
        await page.click("#key-sign-in")
        await page.wait_for_selector("#profile h3:has-text('Sidebar store')")
        assert await page.is_hidden("nav"), "the sidebar shows the customer, not the console's tabs"
        assert await page.evaluate("document.documentElement.scrollWidth") <= width, await page.evaluate(WIDEST)
        # Search, link and actions are there too.
        assert await page.locator("#profile .search").count() == 1
        assert await page.locator("#profile .menu-items button", has_text="Refund order").count() >= 1, "in the menus of the orders"
        await check_accessibility(page, f"the sidebar at {width} px")
        await screenshot(page, f"sidebar-{width}")
        assert errors == []
        await browser.close()
