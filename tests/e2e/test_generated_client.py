"""The OpenAPI document is good enough for a client generator: openapi-spec-validator accepts it,
and a Python client generated from it by openapi-python-client (in a throwaway virtualenv, its
pins in tests/clientgen/constraints.txt) creates a customer, lists what it may search, searches,
links, reads an error as the documented error body, and unlinks, against the running gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from linkmesh_devstack.stack import Stack

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parents[1] / "clientgen"


def pinned(package: str) -> str:
    for line in (HERE / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(package.lower() + "=="):
            return line.strip()
    raise AssertionError(f"{package} is not pinned in {HERE / 'constraints.txt'}")


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv of its own: the generator's dependencies never meet linkmesh's."""
    venv = tmp_path_factory.mktemp("clientgen") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(HERE / "constraints.txt"),
            pinned("openapi-python-client"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return venv


def test_a_generated_client_creates_searches_links_and_reads_errors(
    stack: Stack, generator: Path, tmp_path: Path, own_app: Callable[[str], dict[str, Any]]
) -> None:
    document = requests.get(f"{stack.gateway_url}/api/v1/openapi.json", timeout=10).json()
    validate(document)  # openapi-spec-validator: the document is a valid OpenAPI 3.1 document
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    env = {**os.environ, "PATH": f"{generator / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    generated = subprocess.run(
        [
            str(generator / "bin" / "openapi-python-client"),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "linkmesh_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, "the generator skipped part of the document:\n" + generated.stdout

    bigcommerce = own_app("bigcommerce")["id"]
    email = f"generated-{os.getpid()}@example.com"
    used = subprocess.run(
        [
            str(generator / "bin" / "python"),
            str(HERE / "use_client.py"),
            stack.gateway_url,
            stack.token("agent"),
            email,
            "jane.smith@example.com",
            bigcommerce,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONPATH": str(tmp_path)},
    )
    assert used.returncode == 0, used.stdout + used.stderr
    seen = json.loads(used.stdout.strip().splitlines()[-1])
    assert bigcommerce in seen["targets"] and bigcommerce in seen["results"]
    assert seen["linked"] == [[bigcommerce, "101"]]
    assert seen["missing"] == ["Error", "not_found"]
    assert seen["links_after_unlink"] == 0
