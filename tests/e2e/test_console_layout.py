"""The answer in the first screen (issue 33), measured with the fullest demo customer: Jane linked
to every demo system. The whole profile with its details closed fits in two screens at 1440x900
and three in the sidebar at 360x800; nothing scrolls sideways at 320, 360 and 420 px; the latest
order across systems, its status and its tracking lie in the sidebar's first screen; actions and
provenance stay closed until asked. Each figure is printed, for the closing note."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import check_accessibility, screenshot
from tests.conftest import Api
from tests.e2e.test_console import WIDEST, record_contact, signed_in

pytestmark = pytest.mark.e2e

JANE = "jane.smith@example.com"
SETTLED = "#profile .app [aria-busy=true], #profile .app-status.muted[aria-busy]"

# What lies in the first screen: the text of everything whose top is above the fold.
FIRST_SCREEN = """(fold) => [...document.querySelectorAll('#profile *')]
  .filter((e) => e.children.length === 0 && e.checkVisibility() && e.getBoundingClientRect().top < fold && e.getBoundingClientRect().height > 0)
  .map((e) => e.textContent.trim()).filter(Boolean).join(' | ')"""


@pytest.fixture()
def every_demo_app(api: Api, sandbox_reset: None) -> Iterator[list[dict[str, Any]]]:
    made = []
    tag = uuid.uuid4().hex[:4]
    for payload in api.stack.demo_apps():
        answer = api.post(
            "/api/v1/apps",
            {**payload, "name": f"{payload['name']} {tag}", "auto_link_fields": ["email"], "actions_enabled": True},
            role="admin",
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    yield made
    for app in made:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def latest_order(customer: dict[str, Any], apps: list[dict[str, Any]]) -> dict[str, Any]:
    ours = {a["id"] for a in apps}
    orders = [o for link in customer["links"] if link["app_id"] in ours for o in (link.get("data") or {}).get("orders", [])]
    return max(orders, key=lambda o: o["created_at"])


async def settle(page: Any, apps: list[dict[str, Any]]) -> None:
    for app in apps:
        await page.locator(f"#profile [data-app='{app['id']}']").wait_for()
    await page.wait_for_function(f"!document.querySelector({SETTLED!r})")


async def height(page: Any) -> int:
    return int(await page.evaluate("document.documentElement.scrollHeight"))


async def test_the_fullest_customer_fits_two_screens_on_a_desktop_and_three_in_the_sidebar(
    api: Api, every_demo_app: list[dict[str, Any]]
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser, page, errors = await signed_in(p, api, width=1440, height=900)
        await record_contact(page, JANE)
        await settle(page, every_demo_app)
        # Actions and provenance are closed until asked.
        assert await page.locator("#profile form[data-action], #profile form.record-action").count() == 0, "no action form open"
        assert await page.locator("#profile .menu-items button").first.is_hidden(), "every menu closed"
        assert await page.locator("#profile .from").first.is_hidden(), "where each value came from: behind the toggle"
        desktop = await height(page)
        first = await page.evaluate(FIRST_SCREEN, 900)
        print(f"\n1440x900: page {desktop} px ({desktop / 900:.2f} screens); first screen: {first[:600]}")
        await screenshot(page, "profile-fullest-1440")
        await check_accessibility(page, "the fullest profile at 1440 px")
        # Orders are one-line rows: a state in a few shared words, the vendor's own on hover; a row
        # opens for its lines and shipments.
        bigcommerce = next(a for a in every_demo_app if a["type"] == "bigcommerce")
        card = page.locator(f"#profile [data-app='{bigcommerce['id']}']")
        waiting = card.locator("[data-order='5003'] .badge")
        assert (await waiting.inner_text()).startswith("Unfulfilled"), await waiting.inner_text()
        assert await waiting.get_attribute("title") == "Awaiting fulfillment (the system's own word)"
        shipped = card.locator("[data-order='5002']")
        assert await shipped.locator(".row-body").is_hidden()
        await shipped.locator(".row-toggle").click()
        assert await shipped.locator(".row-toggle").get_attribute("aria-expanded") == "true"
        body = await shipped.locator(".row-body").inner_text()
        assert "1Z999AA10123456799" in body and "says: Shipped" in body, body
        details = await page.locator("#profile .customer dl").inner_text()
        assert "Customer group" in details and "Wholesale" in details, "a group by its name, not its id"
        # A shipment says where the parcel is where the vendor tells (Shopify's fulfillment events).
        shopify = next(a for a in every_demo_app if a["type"] == "shopify")
        parcel = page.locator(f"#profile [data-app='{shopify['id']}'] .record.order", has_text="#1001")
        await parcel.locator(".row-toggle").click()
        assert "Delivered" in await parcel.locator("[aria-label=Shipments]").inner_text()
        await page.click("#profile .sources-toggle")
        assert await page.locator("#profile .from").first.is_visible(), "one toggle shows every value's source"
        assert await page.get_attribute("#profile .sources-toggle", "aria-pressed") == "true"
        await browser.close()
        assert desktop <= 2 * 900, f"the whole profile with details closed is {desktop} px at 1440x900"
        assert errors == []


async def test_the_sidebar_shows_the_latest_order_first_and_never_scrolls_sideways(api: Api, every_demo_app: list[dict[str, Any]]) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser, page, errors = await signed_in(p, api, path=f"/sidebar?email={JANE}", width=360, height=800)
        await settle(page, every_demo_app)
        found = api.get("/api/v1/customers", params={"email": JANE}).json()
        customer = api.get(f"/api/v1/customers/{found['customers'][0]['id']}?refresh=none").json()
        latest = latest_order(customer, every_demo_app)
        tall = await height(page)
        first = await page.evaluate(FIRST_SCREEN, 800)
        print(f"\n360x800: page {tall} px ({tall / 800:.2f} screens); latest order {latest['number']}; first screen: {first[:600]}")
        number = str(latest["number"]).lstrip("#")
        glance = await page.locator("#profile .summary .latest").inner_text()
        assert await page.locator("#profile .summary .latest").evaluate("e => e.getBoundingClientRect().bottom") <= 800
        shipments = latest["shipments"]
        tracking = shipments[-1]["tracking_number"] if shipments else "Not shipped yet"
        assert tracking in glance and latest["total"]["amount"] in glance, glance
        assert await page.locator("#profile .summary .latest .badge").count() == 1, "its state as a badge"
        widths = {}
        for width in (320, 360, 400, 420):
            await page.set_viewport_size({"width": width, "height": 800})
            widths[width] = int(await page.evaluate("document.documentElement.scrollWidth"))
            await screenshot(page, f"profile-fullest-sidebar-{width}")
            assert widths[width] <= width, f"scrolls sideways at {width} px: {await page.evaluate(WIDEST)}"
        print(f"scroll widths: {widths}")
        await browser.close()
        assert number in first, f"the latest order #{number} is not in the sidebar's first screen: {first}"
        assert tall <= 3 * 800, f"the whole profile with details closed is {tall} px at 360x800"
        assert errors == []


async def test_the_directory_uses_the_width_and_phones_read_as_people_write_them(api: Api) -> None:
    """With no customer open, each customer is one row: who, how to reach them, the systems
    linked, when they last wrote, side by side; a phone reads "+1 415-555-0101" (the API keeps
    E.164 in phones, and says it as people write it in phones_formatted)."""
    from playwright.async_api import async_playwright

    tag = uuid.uuid4().hex[:6]
    made = api.post("/api/v1/contacts", {"channel": "chat", "phone": "(415) 555-0142", "name": f"Wide {tag}"}).json()
    customer = api.get(f"/api/v1/customers/{made['customer_id']}?refresh=none").json()
    assert customer["phones"] == ["+14155550142"] and customer["phones_formatted"] == ["+1 415-555-0142"], customer
    async with async_playwright() as p:
        browser, page, errors = await signed_in(p, api, width=1440, height=900)
        row = page.locator("#directory li button", has_text=f"Wide {tag}")
        await row.wait_for()
        boxes = {
            part: await row.locator(f".{part}").evaluate("e => { const r = e.getBoundingClientRect(); return [r.left, r.top]; }")
            for part in ("who", "reach", "linked", "seen")
        }
        lefts = [boxes[p][0] for p in ("who", "reach", "linked", "seen")]
        assert lefts == sorted(lefts) and len(set(lefts)) == 4, f"side by side: {boxes}"
        assert abs(boxes["who"][1] - boxes["seen"][1]) < 4, f"on one line: {boxes}"
        assert "+1 415-555-0142" in await row.inner_text()
        await screenshot(page, "directory-1440")
        await row.click()
        await page.locator("#profile .customer", has_text="+1 415-555-0142").wait_for()
        stacked = (
            await page.locator("#directory li button", has_text=f"Wide {tag}")
            .locator(".linked")
            .evaluate("e => e.getBoundingClientRect().left")
        )
        assert stacked < boxes["linked"][0], "beside a profile the directory is a column again"
        assert errors == []
        await browser.close()


def test_words_break_only_where_a_word_alone_is_wider_than_its_line() -> None:
    """At 400 px words broke mid-word (tables let any word break anywhere): the stylesheet lets a
    word break only when it alone is wider than its line; only a secret key, shown once to be
    copied, may break anywhere."""
    import re
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "gateway" / "src" / "linkmesh_gateway" / "static" / "console.css").read_text()
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", css)
    anywhere = [selector.strip() for selector, body in rules if re.search(r"overflow-wrap:\s*anywhere|word-break:\s*break-all", body)]
    assert anywhere == [".card.secret code"], anywhere
