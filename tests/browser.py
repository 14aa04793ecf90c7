"""The browser the console's tests drive: Debian's Chromium, which ``make test`` installs when
it is missing (as root, with apt-get). Never skipped: a machine where no browser starts fails
the browser tests, saying how to install one."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser")
# As the machine's probe runs it: no sandbox (root in a container), no GPU, and none of the
# background connections a closed network refuses at every start.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]


def chromium_path() -> str:
    for name in CANDIDATES:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    pytest.fail("no Chromium on this machine: `make test` installs Debian's chromium when run as root "
                "(or: apt-get install chromium)")


async def launch(playwright: Any) -> Any:
    """A headless Chromium, or a failed test saying why it would not start."""
    path = chromium_path()
    try:
        return await playwright.chromium.launch(executable_path=path, args=ARGS)
    except Exception as exc:  # noqa: BLE001 - playwright's launch errors name the cause
        pytest.fail(f"Chromium at {path} did not start: {exc}")
