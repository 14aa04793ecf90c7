"""The repository stands alone: a clone with nothing beside it passes ``make test``. The
vendor specifications the tests need are kept here where their licences allow, each the very
file its publisher published (``vendor-specs/sources.json``); the others are read from the
folder ``LINKMESH_VENDOR_SPECS`` names, and no tracked file but ``.ci/run`` points outside."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES: list[dict[str, Any]] = json.loads((ROOT / "vendor-specs" / "sources.json").read_text())["files"]
OUTSIDE = "/".join(("..", "shared"))  # spelt apart, so this file does not name it


def published_bytes(kept: Path, published_name: str) -> bytes:
    """The file as published: a copy gzipped here is unpacked; one published gzipped is as is."""
    data = kept.read_bytes()
    return gzip.decompress(data) if kept.suffix == ".gz" and not published_name.endswith(".gz") else data


@pytest.mark.parametrize("entry", [e for e in SOURCES if e["in_repository"]], ids=lambda e: e["path"])
def test_each_specification_kept_here_is_the_published_file(entry: dict[str, Any]) -> None:
    kept = ROOT / entry["in_repository"]
    assert hashlib.sha256(published_bytes(kept, entry["path"])).hexdigest() == entry["sha256"], entry["path"]
    assert entry["licence"] and entry["source"] and entry["commit"], "its source and licence are named"


def test_the_specifications_from_outside_are_the_published_files_when_given() -> None:
    folder = os.environ.get("LINKMESH_VENDOR_SPECS")
    if not folder:
        pytest.skip("LINKMESH_VENDOR_SPECS is not set: the specifications not kept here are not checked (vendor-specs/README.md)")
    for entry in SOURCES:
        path = Path(folder) / entry["path"]
        if path.exists():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["path"]


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=30)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


def test_no_tracked_file_but_the_ci_script_names_anything_outside_the_repository() -> None:
    naming = []
    for path in tracked_files():
        if path.is_file() and path.suffix not in (".gz", ".png", ".ico") and OUTSIDE in path.read_text(errors="replace"):
            naming.append(str(path.relative_to(ROOT)))
    assert naming == [".ci/run"], naming


def test_the_readme_leads_to_every_document_and_their_links_resolve() -> None:
    """The README is what a newcomer needs first; docs/ holds the rest, each link resolving."""
    readme = (ROOT / "README.md").read_text()
    for name in ("architecture", "linking", "failure-semantics", "lookup-adaptor-protocol", "security", "operations", "adding-a-connector"):
        assert f"(docs/{name}.md)" in readme, name
    assert readme.index("## Try it") < readme.index("## Read on"), "what it is and the two commands come first"
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "vendor-specs" / "README.md"]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_app_settings_table_has_a_row_for_every_connector() -> None:
    from linkmesh_core.connector_spec import discover

    table = (ROOT / "docs" / "operations.md").read_text()
    for spec in discover().values():
        assert f"\n| {spec.display_name} | " in table, f"docs/operations.md: no app settings row for {spec.display_name}"
