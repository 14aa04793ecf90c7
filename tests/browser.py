"""The browser the console's tests drive: Debian's Chromium, which ``make test`` installs when
it is missing (as root, with apt-get). Never skipped: a machine where no browser starts fails
the browser tests, saying how to install one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser")
# As the machine's probe runs it: no sandbox (root in a container), no GPU, and none of the
# background connections a closed network refuses at every start.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    for name in CANDIDATES:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    pytest.fail("no Chromium on this machine: `make test` installs Debian's chromium when run as root (or: apt-get install chromium)")


async def launch(playwright: Any) -> Any:
    """A headless Chromium, or a failed test saying why it would not start."""
    path = chromium_path()
    try:
        return await playwright.chromium.launch(executable_path=path, args=ARGS)
    except Exception as exc:
        pytest.fail(f"Chromium at {path} did not start: {exc}")


ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"


async def check_accessibility(page: Any, where: str) -> None:
    """axe-core (WCAG 2 A and AA: labels, contrast, names, landmarks) on what the page shows now.
    Injected through the debugging protocol, so the page's strict CSP stays as it is."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run make test (npm ci in tests/node)")
    await page.evaluate(AXE.read_text())
    found = await page.evaluate("""async () => {
        const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
        return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    }""")
    assert found == [], f"accessibility problems on {where}:\n" + "\n".join(found)


async def screenshot(page: Any, name: str) -> Path:
    """A picture of the screen under var/screenshots/, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
