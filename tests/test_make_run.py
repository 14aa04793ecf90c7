"""`make run`'s supervisor: starts everything, creates the demo app once,
stops every process on Ctrl-C, and keeps data across a restart."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from linkmesh_core.connector_spec import discover

import pytest

from linkmesh_devstack.ports import port_open

pytestmark = pytest.mark.e2e
ENV = {k: v for k, v in os.environ.items() if k not in ("LINKMESH_TOKENS", "LINKMESH_SECRET_KEYS")}


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str, list[int]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "linkmesh_devstack", "run", "--data-dir", str(data_dir), "--free-ports"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, start_new_session=True,
        # Started as a background job is (SIGINT ignored): Ctrl-C must stop it all the same.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("Press Ctrl-C"):
            text = "".join(seen)
            gateway = re.search(r"gateway\s+(http://127\.0\.0\.1:\d+)", text)
            assert gateway, text
            ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", text)]
            return process, gateway.group(1), ports
    process.kill()
    raise AssertionError("make run did not start:\n" + "".join(seen)[-3000:])


def call(url: str, method: str = "GET", body: object = None, token: str = "agent-demo-token") -> object:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as resp:
        return json.loads(resp.read())


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def listening(ports: list[int]) -> list[int]:
    return [p for p in ports if port_open(p)]


# One demo app per installed connector that declares a sandbox, in the order of their ports.
DEMO_APPS = [spec.load_sandbox().demo_app("http://x")["name"] for spec in discover().values() if spec.sandbox]


def test_run_starts_everything_stops_on_ctrl_c_and_keeps_data(tmp_path: Path) -> None:
    process, gateway, ports = start(tmp_path)
    assert len(set(ports)) >= 5, "gateway, profile, connector, sandbox and MongoDB"
    try:
        apps = call(f"{gateway}/api/v1/apps", token="admin-demo-token")["apps"]  # type: ignore[index]
        assert [a["name"] for a in apps] == DEMO_APPS
        customer = call(f"{gateway}/api/v1/customers", "POST", {"name": "Kept", "emails": ["kept@example.com"]})
        search = call(f"{gateway}/api/v1/customers/{customer['id']}/external-search", "POST",  # type: ignore[index]
                      {"app_id": "all", "email": "jane.smith@example.com"})
        assert sorted((r["app_type"], r["external_customer_id"]) for r in search["results"]) == [
            ("bigcommerce", "101"), ("lookup_adaptor", "club-1001"), ("magento", "1"), ("returnlogic", "jane.smith@example.com"),
            ("shopify", "7001")]  # type: ignore[index]
    finally:
        stop(process)
    assert process.returncode == 0
    assert listening(sorted(set(ports))) == [], "every process stopped"

    process, gateway, _ = start(tmp_path)
    try:
        apps = call(f"{gateway}/api/v1/apps", token="admin-demo-token")["apps"]  # type: ignore[index]
        assert [a["name"] for a in apps] == DEMO_APPS, "the demo apps are created once"
        found = call(f"{gateway}/api/v1/customers?email=kept@example.com")["customers"]  # type: ignore[index]
        assert [c["id"] for c in found] == [customer["id"]], "data survives a restart"  # type: ignore[index]
        # The secret was encrypted with the key kept in the data folder, so the app still works.
        search = call(f"{gateway}/api/v1/customers/{customer['id']}/external-search", "POST",  # type: ignore[index]
                      {"app_id": "all", "email": "jane.smith@example.com"})
        assert search["failures"] == []  # type: ignore[index]
    finally:
        stop(process)
