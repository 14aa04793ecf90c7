"""Benchmark: how soon the console shows something, in headless Chromium.

Starts the whole stack and measures in the same run, each page loaded cold in a new browser
context (no cache) several times:

- baseline: a one-line static HTML page served from this machine (the browser's own floor);
- console:  the console's sign-in page (/), its first contentful paint;
- profile:  signed in, the sidebar opening a linked customer from its query, until the
            customer's card shows.

It prints the medians, the console's paint as a ratio of the baseline, and the bytes the
console sends (HTML, CSS and script: no framework, no build step).

    .venv/bin/python bench/console_paint.py --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

from linkmesh_devstack.stack import Stack

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
PAINT = "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"


async def first_paint(browser: Any, url: str) -> float:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url, wait_until="load")
    painted = None
    for _ in range(50):
        painted = await page.evaluate(PAINT)
        if painted is not None:
            break
        await asyncio.sleep(0.02)
    await context.close()
    return float(painted or "nan")


async def profile_shown(browser: Any, stack: Stack) -> float:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{stack.gateway_url}/sidebar?email=jane.smith%40example.com")
    await page.fill("#token", stack.token("agent"))
    started = time.perf_counter()
    await page.click("#key-sign-in")
    await page.wait_for_selector("#profile .customer")
    elapsed = (time.perf_counter() - started) * 1000
    await context.close()
    return elapsed


async def measure(stack: Stack, rounds: int) -> None:
    from playwright.async_api import async_playwright

    baseline_app = web.Application()

    async def baseline(request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>b</title><p>baseline</p>", content_type="text/html")

    baseline_app.router.add_get("/", baseline)
    runner = web.AppRunner(baseline_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("no Chromium: make test installs Debian's chromium (as root)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=ARGS)
        base, console, profile = [], [], []
        for _ in range(rounds):
            base.append(await first_paint(browser, f"http://127.0.0.1:{port}/"))
            console.append(await first_paint(browser, f"{stack.gateway_url}/"))
            profile.append(await profile_shown(browser, stack))
        await browser.close()
    await runner.cleanup()
    size = sum(
        len(urllib.request.urlopen(f"{stack.gateway_url}{path}", timeout=5).read())  # noqa: ASYNC210 - after the timing
        for path in ("/", "/console/console.css", *(f"/console/{m.name}" for m in STATIC.glob("*.js")))
    )
    b, c, pr = statistics.median(base), statistics.median(console), statistics.median(profile)
    print(f"console first paint, {rounds} cold loads each (headless Chromium, no cache)")
    print(f"  static one-line page (baseline)   first paint {b:7.1f} ms   1.00x")
    print(f"  console sign-in page               first paint {c:7.1f} ms   {c / b:.2f}x   (goal < 1000 ms)")
    print(f"  sidebar: sign in to customer card               {pr:7.1f} ms   (records the contact, reads the profile)")
    print(f"  console bytes (HTML + CSS + script, uncompressed): {size / 1024:.1f} KiB")


STATIC = Path(__file__).resolve().parents[1] / "gateway" / "src" / "linkmesh_gateway" / "static"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(base_dir=Path(tmp), extra_env={"PROFILE_FRESHNESS_S": "60", "PROFILE_EVENTS_FRESHNESS_S": "60"})
        stack.start()
        try:
            # A demo store linked to Jane, so the sidebar has a profile to show.
            status, app = stack.api(
                "POST",
                "/api/v1/apps",
                "admin",
                {
                    "type": "bigcommerce",
                    "name": "Paint store",
                    "auto_link_fields": ["email"],
                    "settings": {"store_hash": "demo1", "api_base_url": stack.sandbox_url("bigcommerce")},
                    "secrets": {"access_token": "demo-bigcommerce-token"},
                    "search_query_attributes": [{"attribute": "email", "label": "Email"}],
                },
            )
            assert status == 201, json.dumps(app)
            asyncio.run(measure(stack, args.rounds))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
