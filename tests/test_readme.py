"""The README's walkthrough, run as written against `make run`'s stack: its commands print
exactly what the README says they print, so the README cannot drift from the product."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.test_make_run import start, stop

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough() -> tuple[str, list[str]]:
    text = README.read_text()
    match = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)\n```\n\nIt prints:\n\n```\n(.*?)\n```", text, re.S)
    assert match, "the README's walkthrough block (<!-- walkthrough -->, then 'It prints:') is missing"
    return match.group(1), match.group(2).splitlines()


def test_the_readme_walkthrough_does_what_it_says_against_make_run(tmp_path: Path) -> None:
    script, expected = walkthrough()
    assert "http://localhost:8080" in script
    process, gateway, _, _ = start(tmp_path / "var")
    try:
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace("http://localhost:8080", gateway)],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp_path,
        )
    finally:
        stop(process)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == expected, run.stdout + run.stderr
