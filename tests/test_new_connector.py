"""``make new-connector NAME=…`` writes a working read-only connector, its sandbox and its test:
generated into a copy of the repository's layout, the generated test passes and the generated
code is lint- and format-clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linkmesh_devstack import new_connector

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The layout the generator writes into: the Makefile, the sandboxes package, ruff's settings."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "ruff.toml", tmp_path / "ruff.toml")
    shutil.copy(ROOT / "pytest.ini", tmp_path / "pytest.ini")
    shutil.copytree(ROOT / "sandboxes" / "src", tmp_path / "sandboxes" / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "services", tmp_path / "services", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return tmp_path


def test_a_new_connector_works_against_its_sandbox_and_is_clean(repo: Path) -> None:
    written = new_connector.write("acme_shop", repo)
    assert repo / "services/connector-acme-shop/src/linkmesh_acme_shop/connector.py" in written
    assert "CONNECTORS += services/connector-acme-shop\n" in (repo / "Makefile").read_text()
    spec = (repo / "services/connector-acme-shop/src/linkmesh_acme_shop/spec.py").read_text()
    assert "port=50070" in spec and "sandbox_port=8690" in spec, "the first ports no connector uses"
    generated = [str(p) for p in written]
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", *generated], cwd=repo, capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *generated], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert fmt.returncode == 0, fmt.stdout
    path = os.pathsep.join([str(repo / "services/connector-acme-shop/src"), str(repo / "sandboxes/src"), os.environ.get("PYTHONPATH", "")])
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(repo),
            str(repo / "tests/test_acme_shop_connector.py"),
        ],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout + run.stderr
    lines = sum(len(p.read_text().splitlines()) for p in (repo / "services/connector-acme-shop/src").rglob("*.py"))
    print(f"a new read-only connector: {lines} lines")


def test_a_bad_or_taken_name_is_refused(repo: Path) -> None:
    with pytest.raises(SystemExit, match="NAME must be"):
        new_connector.write("Acme-Shop", repo)
    with pytest.raises(SystemExit, match="exists already"):
        new_connector.write("returnlogic", repo)
